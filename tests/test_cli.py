"""The `tillit` command: clear one-line errors and non-zero exits for what users get wrong."""
import pytest

from tillit.build import cli


def test_unknown_notebook_parameter_is_a_clear_error(capsys):
    code = cli.main(["run", "04_hovedfunn", "-p", "min_cel", "10"])
    err = capsys.readouterr().err
    assert code == 2
    assert "min_cel" in err and "parametercelle" in err and "Traceback" not in err


def test_unknown_notebook_is_a_clear_error(capsys):
    assert cli.main(["run", "99_finnes_ikke"]) == 2
    assert "99_finnes_ikke" in capsys.readouterr().err


def test_param_values_are_yaml_scalars_like_papermill():
    assert cli._parse_value("10") == 10
    assert cli._parse_value("true") is True
    assert cli._parse_value("logit") == "logit"


def test_raw_state_tells_real_from_synthetic(tmp_path):
    import json

    from tillit.data import source

    assert cli.raw_state(tmp_path) == "empty"
    export = tmp_path / "survey_2023.csv"
    export.write_text("RespondentID\n1\n", encoding="utf-8")
    assert cli.raw_state(tmp_path) == "real"
    # The marker vouches only for the files whose SHA-256 it records.
    (tmp_path / source.MARKER).write_text(json.dumps({"files": {export.name: source.sha256(export)}}),
                                          encoding="utf-8")
    assert cli.raw_state(tmp_path) == "synthetic"
    export.write_text("RespondentID\n2\n", encoding="utf-8")
    assert cli.raw_state(tmp_path) == "real"


def test_synth_refuses_to_overwrite_a_real_export(tmp_path, capsys):
    (tmp_path / "survey_2023.csv").write_text("RespondentID\n1\n", encoding="utf-8")
    assert cli.main(["synth", "--raw-dir", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "survey_2023.csv" in err and "ikke har skrevet" in err and len(err.strip().splitlines()) == 1
    assert (tmp_path / "survey_2023.csv").read_text(encoding="utf-8") == "RespondentID\n1\n"


def test_help_lists_every_command(capsys):
    with pytest.raises(SystemExit):
        cli.main(["--help"])
    out = capsys.readouterr().out
    for command in ("build", "run", "render", "synth", "batch", "ledger"):
        assert command in out


# --- faults that end in one line, exit 2, no traceback -----------------------------------
import errno  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import tempfile  # noqa: E402
from pathlib import Path  # noqa: E402

from test_pipeline import make_compendium  # noqa: E402


@pytest.fixture
def comp(tmp_path, monkeypatch):
    root = make_compendium(tmp_path / "komp")
    monkeypatch.setenv("TILLIT_ROOT", str(root))
    monkeypatch.setattr(cli, "ensure_raw", lambda raw_dir, progress=print: "real")
    return root


@pytest.mark.parametrize("code,words", [
    (errno.EROFS, "skrivebeskyttet"), (errno.EACCES, "ingen skrivetilgang"), (errno.ENOSPC, "disken er full"),
    (errno.EXDEV, "mellom to filsystemer"),
])
def test_file_system_faults_are_one_line(comp, monkeypatch, capsys, code, words):
    from tillit.build.pipeline import orchestrate

    def refuse(out_dir, root):
        raise OSError(code, os.strerror(code), str(out_dir / ".build.lock"))

    monkeypatch.setattr(orchestrate, "_acquire_lock", refuse)
    assert cli.main(["build"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and words in err and "outputs/.build.lock" in err and "Traceback" not in err


def test_negative_workers_is_one_line(comp, capsys):
    assert cli.main(["build", "--workers", "-1"]) == 2
    err = capsys.readouterr().err
    assert "--workers = -1" in err and err.count("\n") == 1


def test_output_dir_into_notebooks_is_refused_by_every_command(comp, capsys):
    text = (comp / "params/default.yml").read_text(encoding="utf-8").replace("output_dir: outputs", "output_dir: .")
    (comp / "params/default.yml").write_text(text, encoding="utf-8")
    before = {p: p.read_bytes() for p in (comp / "notebooks").iterdir()}
    for argv in (["build"], ["render"], ["run", "01_a"], ["run", "01_a", "-o", "notebooks/01_a.ipynb"]):
        assert cli.main(argv) == 2, argv
        err = capsys.readouterr().err
        assert "Traceback" not in err and ("rotmappe" in err or "notebooks/" in err), (argv, err)
    assert {p: p.read_bytes() for p in (comp / "notebooks").iterdir()} == before


def test_render_takes_the_build_lock(comp, capsys):
    from tillit.build.pipeline.orchestrate import _acquire_lock

    lock = _acquire_lock(comp / "outputs", comp)
    try:
        assert cli.main(["render"]) == 2
        assert "En annen bygging pågår" in capsys.readouterr().err
    finally:
        lock.release()


def test_interrupted_render_leaves_no_partial_book_and_keeps_the_old_one(comp, monkeypatch):
    from tillit.book import render as book
    from tillit.build import publish

    out = comp / "outputs"
    (out / "book").mkdir()
    (out / "book" / "index.html").write_text("gammel bok", encoding="utf-8")
    # A render killed earlier left its folders behind.
    (out / ".book-abc").mkdir()
    (out / ".book-old-def").mkdir()

    def interrupted(root, renderer="auto", **kw):
        assert not list(out.glob(".book-*"))   # the leftovers were removed first
        # Like book.render between its two renames: the old book moved aside, then Ctrl-C.
        tmp = Path(tempfile.mkdtemp(prefix=".book-", dir=out))
        (tmp / "index.html").write_text("halv", encoding="utf-8")
        old = Path(tempfile.mkdtemp(prefix=".book-old-", dir=out))
        os.replace(out / "book", old / "book")
        raise KeyboardInterrupt

    monkeypatch.setattr(book, "render", interrupted)
    with pytest.raises(KeyboardInterrupt):
        publish.render_book(comp)
    assert not list(out.glob(".book-*"))
    assert (out / "book" / "index.html").read_text(encoding="utf-8") == "gammel bok"


def test_rendered_book_is_readable_by_others(comp, monkeypatch):
    from tillit.book import render as book
    from tillit.build import publish

    out = comp / "outputs"

    class Result:
        renderer, warnings = "nbconvert-fallback", []
        index_path = out / "book" / "index.html"

    def fake(root, renderer="auto", **kw):
        tmp = Path(tempfile.mkdtemp(prefix=".book-", dir=out))   # mkdtemp: 0700
        (tmp / "sub").mkdir()
        (tmp / "index.html").write_text("bok", encoding="utf-8")
        os.chmod(tmp / "index.html", 0o600)
        os.replace(tmp, out / "book")
        return Result()

    monkeypatch.setattr(book, "render", fake)
    publish.render_book(comp)
    assert (out / "book").stat().st_mode & 0o777 == 0o755
    assert (out / "book" / "sub").stat().st_mode & 0o777 == 0o755
    assert (out / "book" / "index.html").stat().st_mode & 0o777 == 0o644


# --- output_dir given at the command line (-p / -f) ---------------------------------------
REPO = Path(__file__).resolve().parents[1]


def _fake_render(calls: list, status: str = "ok"):
    """Stands in for tillit.book.render: writes a one-page book into the output folder it is given."""
    from tillit.book.render.run import RenderResult

    def fake(root, renderer="auto", *, force=False, output_dir=None, data_dir=None):
        calls.append({"root": Path(root), "output_dir": Path(output_dir), "data_dir": Path(data_dir)})
        book = Path(output_dir) / "book"
        if status == "ok":
            tmp = Path(tempfile.mkdtemp(prefix=".book-", dir=output_dir))
            (tmp / "index.html").write_text("bok", encoding="utf-8")
            if book.exists():
                import shutil

                shutil.rmtree(book)
            os.replace(tmp, book)
        return RenderResult("nbconvert-fallback", book / "index.html", [book / "index.html"], [], status,
                            "nbconvert 0", ["index.html"] if status == "ok" else [], [])
    return fake


def _tree(path: Path) -> dict:
    return {p.relative_to(path).as_posix(): p.read_bytes() for p in sorted(path.rglob("*")) if p.is_file()}


@pytest.mark.parametrize("spelling", ["equals", "pair", "file"])
def test_build_writes_everything_under_the_output_dir_given(comp, tmp_path, monkeypatch, capsys, spelling):
    from tillit.book import render as book

    calls: list = []
    monkeypatch.setattr(book, "render", _fake_render(calls))
    out = tmp_path / "andre" / "utdata"
    before = _tree(comp / "outputs")
    argv = {"equals": ["build", "-p", f"output_dir={out}"], "pair": ["build", "-p", "output_dir", str(out)],
            "file": ["build", "-f", str(tmp_path / "run.yml")]}[spelling]
    (tmp_path / "run.yml").write_text(f"output_dir: {out}\n", encoding="utf-8")
    assert cli.main(argv) == 0, capsys.readouterr().err
    printed = capsys.readouterr().out
    # Executed notebooks, tables, figures, manifest, disclosure log and audit, book: all there.
    for rel in ("notebooks/01_a.ipynb", "notebooks/02_b.ipynb", "tables/01_a/result.csv", "figures/01_a/plot.txt",
                "manifest.json", "disclosure_log.csv", "disclosure_audit.json", "book/index.html", ".tillit-utdata"):
        assert (out / rel).is_file(), rel
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["build"]["status"] == "ok" and manifest["render"]["renderer"] == "nbconvert-fallback"
    assert calls == [{"root": comp.resolve(), "output_dir": out.resolve(), "data_dir": (comp / "data/processed").resolve()}]
    # Nothing under the repository's own outputs/.
    assert _tree(comp / "outputs") == before
    assert f"utdata: {out.resolve()}" in printed and str(out.resolve() / "book" / "index.html") in printed


def test_build_and_render_refuse_an_output_dir_among_the_sources_given_with_p(comp, capsys):
    before = _tree(comp / "notebooks")
    for argv in (["build", "-p", "output_dir=notebooks"], ["build", "-p", "output_dir", "."],
                 ["render", "-p", "output_dir=params"], ["build", "-p", "output_dir=data/raw"],
                 ["run", "01_a", "-p", "output_dir=src"]):
        assert cli.main(argv) == 2, argv
        err = capsys.readouterr().err
        assert "Traceback" not in err and err.count("\n") == 1 and "output_dir" in err, (argv, err)
    assert _tree(comp / "notebooks") == before
    assert not (comp / "outputs" / "manifest.json").exists()


def test_render_takes_the_output_dir_and_says_when_the_book_was_up_to_date(comp, tmp_path, monkeypatch, capsys):
    from tillit.book import render as book

    calls: list = []
    out = tmp_path / "ut"
    monkeypatch.setattr(book, "render", _fake_render(calls))
    assert cli.main(["render", "-p", "output_dir", str(out), "--renderer", "fallback"]) == 0
    line = capsys.readouterr().out
    assert "render (nbconvert-fallback)" in line and "1 sider laget, 0 uendret gjenbrukt" in line
    assert "Boka er laget med nbconvert-reserveløsningen (valgt med --renderer fallback)" in line
    assert (out / "book" / "index.html").is_file() and calls[0]["output_dir"] == out.resolve()
    monkeypatch.setattr(book, "render", _fake_render(calls, status="cached"))
    assert cli.main(["render", "-p", "output_dir", str(out), "--renderer", "fallback"]) == 0
    line = capsys.readouterr().out
    assert "uendret (ingenting boka bygger på er endret)" in line and "Boka er uendret, sist laget med" in line
    assert json.loads((out / "manifest.json").read_text(encoding="utf-8"))["render"]["status"] == "cached"
    # render takes only the shared parameters
    assert cli.main(["render", "-p", "factor", "3"]) == 2
    assert "ukjent parameter factor" in capsys.readouterr().err


def test_an_edition_is_not_built_with_other_parameters(comp, capsys):
    import shutil

    for name in ("editions.yml", "codebook.yml"):
        shutil.copy(REPO / "params" / name, comp / "params" / name)
    code = cli.main(["build", "--edition", "nks", "-p", "min_cell", "7"])
    err = capsys.readouterr().err
    assert code == 2 and "-p/-f og --edition" in err, err


def test_run_alone_runs_the_disclosure_audit_and_stops_when_it_fails(comp, monkeypatch, capsys):
    from tillit.stats import audit as audit_mod

    assert cli.main(["run", "00_prep"]) == 0
    assert cli.main(["run", "01_a"]) == 0
    printed = capsys.readouterr().out
    assert "01_a" in printed
    out = comp / "outputs"
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["steps"]["01_a"]["status"] == "ok"
    assert manifest["audit"]["ok"] is True and manifest["audit_final"]["ok"] is True
    assert json.loads((out / "disclosure_audit.json").read_text(encoding="utf-8"))["ok"] is True

    def leaky(out_dir, **kw):
        res = audit_mod.AuditResult(min_cell=kw["min_cell"], tables=1)
        res.violations.append(audit_mod.Finding("01_a/t", "rad", "antall svar (n)", "publisert tall under min_cell"))
        return res

    monkeypatch.setattr(audit_mod, "run_audit", leaky)
    assert cli.main(["run", "01_a", "-p", "factor", "2"]) == 2
    err = capsys.readouterr().err
    assert "Revisjonen av skjulte tall feilet" in err and "01_a/t" in err and "Traceback" not in err
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["audit"]["ok"] is False  # the next build audits again


def test_a_side_run_says_it_is_not_audited(comp, tmp_path, capsys):
    assert cli.main(["run", "00_prep"]) == 0
    assert cli.main(["run", "01_a", "-o", str(tmp_path / "side.ipynb")]) == 0
    assert "ikke med i revisjonen" in capsys.readouterr().out
