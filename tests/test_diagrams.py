"""The report's diagrams (tillit.book.diagrams): drawn from params/report.yml, every label
legible and inside the figure, nothing drawn that the report's text does not state."""
from __future__ import annotations

import io

import matplotlib
import pytest
import yaml

matplotlib.use("Agg")

from tillit.book import diagrams  # noqa: E402
from tillit.config import repo_root  # noqa: E402

REPORT = yaml.safe_load((repo_root() / "params" / "report.yml").read_text(encoding="utf-8"))


def _draw(kind: str):
    r = REPORT
    if kind == "goals":
        return diagrams.draw_goals(r["goals"], r["purpose_parties"])
    if kind == "approach":
        return diagrams.draw_approach(r["goals"], r["approach"]["themes"], r["approach"]["names"], r["deliveries"],
                                      r["working_group"]["reports_to"], r["secretariat"]["coordinator"])
    if kind == "timeline":
        return diagrams.draw_timeline(r["phases"], r["deliveries"], diagrams.resolve_timeline(r))
    if kind == "activities":
        return diagrams.draw_activities(r["activities"])
    if kind == "findings":
        return diagrams.draw_findings(r["goals"], r["findings"])
    if kind == "delivery2":
        return diagrams.draw_delivery2(r["delivery_2"], r["deliveries"]["2"]["title"])
    raise KeyError(kind)


KINDS = ["goals", "approach", "timeline", "activities", "findings", "delivery2"]


def _texts(fig) -> list:
    return [t for ax in fig.axes for t in ax.texts if t.get_text().strip()]


def _joined(fig) -> str:
    return " ".join(" ".join(t.get_text().split()) for t in _texts(fig))


@pytest.mark.parametrize("kind", KINDS)
def test_every_label_is_legible_and_inside_the_figure(kind):
    fig = _draw(kind)
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    width, height = fig.bbox.width, fig.bbox.height
    assert fig.get_size_inches()[0] <= 5.0, "diagrammene er smale, så de kan leses på mobil"
    for t in _texts(fig):
        assert t.get_fontsize() >= diagrams.BODY, f"{kind}: «{t.get_text()[:40]}» er for liten"
        box = t.get_window_extent(renderer)
        assert box.x0 >= -0.5 and box.x1 <= width + 0.5, f"{kind}: «{t.get_text()[:40]}» går ut av figuren"
        assert box.y0 >= -0.5 and box.y1 <= height + 0.5, f"{kind}: «{t.get_text()[:40]}» går ut av figuren"
    matplotlib.pyplot.close(fig)


@pytest.mark.parametrize("kind", KINDS)
def test_diagrams_are_vector_graphics(kind):
    fig = _draw(kind)
    buf = io.BytesIO()
    fig.savefig(buf, format="svg")
    svg = buf.getvalue().decode()
    assert "<svg" in svg and "<image" not in svg
    matplotlib.pyplot.close(fig)


def test_goals_diagram_shows_every_goal():
    text = _joined(_draw("goals"))
    for k, g in REPORT["goals"].items():
        assert f"Mål {k}: {g['short']}" in text
        assert " ".join(g["text"].split()[:4]) in text


def test_approach_does_not_invent_the_four_themes():
    assert REPORT["approach"]["names"] is None, "rapportens tekst navngir ikke temaene"
    text = _joined(_draw("approach"))
    assert text.count("ikke navngitt i rapportens tekst") == REPORT["approach"]["themes"]


def test_timeline_draws_only_dates_the_report_states():
    timeline = diagrams.resolve_timeline(REPORT)
    text = _joined(_draw("timeline"))
    for ev in timeline:
        assert ev["when"] in text
    assert "2024" not in text and "vår 2023" not in text.replace("våren 2023", "")
    assert all("period" not in p for p in REPORT["phases"]), "fasene har ingen datoer i rapporten"


def test_findings_per_goal_match_the_reports_overview():
    counts = {k: len(v) for k, v in REPORT["findings"].items()}
    assert counts == {"1": 5, "2": 6, "3": 2, "4": 8, "5": 3}
    summary = {k: len(v) for k, v in REPORT["summary_findings"].items()}
    assert summary == {"1": 5, "2": 3, "3": 2, "4": 5, "5": 2} and sum(summary.values()) == 17
    numbers = {e["n"] for e in REPORT["outline"] if e["n"]}
    for items in [*REPORT["findings"].values(), *REPORT["summary_findings"].values()]:
        for f in items:
            for sec in f.get("sections", [f.get("section")]):
                assert sec in numbers, f"{sec} finnes ikke i rapportens disposisjon"
    text = _joined(_draw("findings"))
    for items in REPORT["findings"].values():
        for f in items:
            assert " ".join(f["title"].split()[:5]) in text


def test_summary_findings_rest_on_existing_targets():
    published = yaml.safe_load((repo_root() / "params" / "published.yml").read_text(encoding="utf-8"))
    ids = {t["id"] for t in published["targets"]}
    named = [t for items in REPORT["summary_findings"].values() for f in items for t in f.get("targets", [])]
    assert named and set(named) <= ids, sorted(set(named) - ids)


def test_figure_map_names_every_report_figure_once():
    figs = REPORT["figures"]
    assert [f["number"] for f in figs] == list(range(1, 10))
    numbers = {e["n"] for e in REPORT["outline"] if e["n"]}
    assert all(f["section"] in numbers and f["labels"] for f in figs)
