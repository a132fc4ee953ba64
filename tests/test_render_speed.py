"""The fallback render's speed-ups give the same book: pages rendered in worker processes
(tillit.book.render.jobs.PageJobs) are the pages a serial render writes, a failing page
raises the same error either way, and the data: URIs taken out of mistune's way
(tillit.book.render.markdown.DataURIs) come back byte for byte."""
from __future__ import annotations

import base64
import multiprocessing
import os
from pathlib import Path

import nbformat
import pytest

from book_fixture import build_fake_root
from tillit.book import provenance
from tillit.book.render import fallback, jobs
from tillit.book.render.markdown import DataURIs, _markdown_to_html, markdown_to_html
from tillit.book.render.structure import BookError

PNG = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
SVG = base64.b64encode(b'<svg xmlns="http://www.w3.org/2000/svg">' + b"<g/>" * 400 + b"</svg>").decode()
# Two data URIs, a text that looks like a token, and one in a code span and an HTML attribute.
TWO_URIS = (f"![En figur](data:image/svg+xml;base64,{SVG}){{#fig-a}}\n\n"
            f"Tekst med tillitDataUri0x0x og `data:image/png;base64,{PNG}` i kode.\n\n"
            f'<img alt="rå" src="data:image/png;base64,{PNG}">\n\n'
            f"![Den andre](data:image/png;base64,{PNG})\n")


@pytest.fixture()
def root(tmp_path, monkeypatch) -> Path:
    root = build_fake_root(tmp_path / "src")
    monkeypatch.setenv("TILLIT_ROOT", str(root))
    return root


class CountingPool(jobs.ProcessPoolExecutor):
    started = 0
    submitted = 0

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        CountingPool.started += 1

    def submit(self, *args, **kwargs):
        CountingPool.submitted += 1
        return super().submit(*args, **kwargs)


def _render(root: Path, out: Path, monkeypatch, cpus: int) -> dict[str, bytes]:
    """The fallback book of `root` in `out`, with `cpus` CPUs as PageJobs sees them."""
    monkeypatch.setattr(jobs, "_cpus", lambda: cpus)
    monkeypatch.setattr(jobs, "ProcessPoolExecutor", CountingPool)
    CountingPool.started = CountingPool.submitted = 0
    out.mkdir()
    fallback.render_fallback(root, out, None, "nøkkel", "nbconvert-reserveløsningen (test)")
    return {p.relative_to(out).as_posix(): p.read_bytes() for p in sorted(out.rglob("*")) if p.is_file()}


def test_pool_and_serial_write_the_same_book(root, tmp_path, monkeypatch):
    serial = _render(root, tmp_path / "serial", monkeypatch, cpus=1)
    assert CountingPool.started == 0
    pooled = _render(root, tmp_path / "pool", monkeypatch, cpus=2)
    pages = [n for n in serial if n.endswith(".html") and n != "index.html"]
    assert CountingPool.started == 1 and CountingPool.submitted == len(pages)   # every page in a worker
    assert sorted(serial) == sorted(pooled)
    assert [n for n in serial if serial[n] != pooled[n]] == []
    assert not multiprocessing.active_children()   # the workers are gone


def test_pool_that_cannot_start_renders_serially(root, tmp_path, monkeypatch):
    serial = _render(root, tmp_path / "serial", monkeypatch, cpus=1)

    def no_fork(method=None):
        raise ValueError("cannot find context for 'fork'")

    monkeypatch.setattr(jobs.multiprocessing, "get_context", no_fork)
    assert _render(root, tmp_path / "nofork", monkeypatch, cpus=2) == serial


def _break(root: Path, notebook: str, label: str) -> None:
    path = root / "outputs" / "notebooks" / f"{notebook}.ipynb"
    nb = nbformat.read(path, as_version=4)
    nb.cells[-1].outputs.append(nbformat.v4.new_output("display_data", data={"text/markdown": f"Se @fig-{label}."}))
    nbformat.write(nb, path)


def test_failing_page_raises_the_same_error_in_the_pool(root, tmp_path, monkeypatch):
    # Two broken pages: the first in book order is named, whichever worker finishes first.
    _break(root, "02_innledning", "finnesikke")
    _break(root, "05_videre_arbeid", "heller-ikke")
    errors = {}
    for cpus in (1, 2):
        with pytest.raises(BookError) as caught:
            _render(root, tmp_path / f"cpus{cpus}", monkeypatch, cpus=cpus)
        errors[cpus] = (type(caught.value), str(caught.value))
    assert errors[1] == errors[2]
    assert "02_innledning.ipynb: celle" in errors[2][1] and "'@fig-finnesikke'" in errors[2][1]
    assert CountingPool.started == 1 and not multiprocessing.active_children()


def _double(shared: dict, x: int) -> int:
    return 2 * x + shared["add"]


def _die_in_worker(shared: dict, x: int) -> int:
    if os.getpid() != shared["parent"]:
        os._exit(3)   # a worker killed mid-job
    return 2 * x


def test_page_jobs_read_in_any_order_and_survive_a_dead_worker(monkeypatch):
    monkeypatch.setattr(jobs, "_cpus", lambda: 2)
    with jobs.PageJobs({"add": 1}, expect=3) as work:
        assert work.pool is not None
        results = [work.submit(_double, x) for x in range(3)]
        assert [r.result() for r in reversed(results)] == [5, 3, 1]
    with jobs.PageJobs({"parent": os.getpid()}, expect=2) as work:
        results = [work.submit(_die_in_worker, x) for x in range(2)]
        assert [r.result() for r in results] == [0, 2]   # done here instead
    with jobs.PageJobs({"add": 0}, expect=1) as work:   # one job: no pool
        assert work.pool is None and work.submit(_double, 4).result() == 8
    assert not multiprocessing.active_children()


# ----------------------------------------------------------------------- data: URIs
def test_data_uri_tokens_round_trip():
    uris = DataURIs(TWO_URIS)
    hidden = uris.hide(TWO_URIS)
    assert uris.stem != "tillitDataUri0x"      # the text already has that stem
    assert len(uris.payloads) == 4 and SVG not in hidden and PNG not in hidden
    assert "tillitDataUri0x0x" in hidden and len(hidden) < len(TWO_URIS) // 5
    assert uris.restore(hidden) == TWO_URIS
    assert DataURIs("ingen").restore("tillitDataUri0x0x") == "tillitDataUri0x0x"


def test_markdown_with_data_uris_renders_the_same_html():
    assert markdown_to_html(TWO_URIS) == _markdown_to_html(TWO_URIS)
    fenced = f"::: {{.callout-note}}\n## Tittel\n\n{TWO_URIS}\n:::\n"
    assert markdown_to_html(fenced) == _markdown_to_html(fenced)
    assert f'src="data:image/png;base64,{PNG}"' in markdown_to_html(TWO_URIS)


def test_notebook_page_with_data_uris_is_the_same_page(monkeypatch):
    nb = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_markdown_cell(TWO_URIS),
        nbformat.v4.new_code_cell("print('tillitDataUri0x1x')", execution_count=1, outputs=[
            nbformat.v4.new_output("stream", name="stdout", text="tillitDataUri0x1x\n"),
            nbformat.v4.new_output("display_data", data={"text/markdown": TWO_URIS, "text/plain": "x"})]),
    ])
    fast = provenance.notebook_page(nb, "test")

    class Nothing(DataURIs):
        def hide(self, text: str) -> str:
            return text

    monkeypatch.setattr("tillit.book.render.markdown.DataURIs", Nothing)
    slow = provenance.notebook_page(nb, "test")
    assert fast == slow
    assert fast.count(SVG) == 2 and "tillitDataUri0x1x" in fast


def test_cited_labels_are_found_the_same_with_short_payloads():
    from tillit.book.render.numbering import CROSSREF_RE

    text = (f"Se @fig-a og [-@tbl-b]. ![x](data:image/png;base64,{PNG})@fig-c "
            f"![y](data:image/png;base64,{PNG[:-2]}/)@fig-d ![z](data:image/svg+xml;base64,{SVG}) @Fig-e. "
            f"data:image/png;base64,{SVG[:40]}@fig-f data:image/png;base64,{SVG[:40]}/@fig-g")
    short = fallback._short_payloads(text)
    assert len(short) < len(text) - len(SVG) + 10
    assert [m.groups() for m in CROSSREF_RE.finditer(short)] == [m.groups() for m in CROSSREF_RE.finditer(text)]
    assert {"fig-a", "tbl-b", "fig-e"} <= {f"{m.group(2).lower()}-{m.group(3)}" for m in CROSSREF_RE.finditer(text)}


# ------------------------------------------------------------ one parse of each page
def _both_ways(nb, renderer: str) -> tuple[str, str]:
    """A page body as nbconvert's HTMLExporter and the old double parse made it, and as the
    fallback makes it now (ChapterExporter, one parse, the same fixes)."""
    from bs4 import BeautifulSoup
    from nbconvert import HTMLExporter

    stock = HTMLExporter(extra_template_basedirs=[str(fallback.TEMPLATES)], template_name="tillit_chapter")
    stock.exclude_input_prompt = stock.exclude_output_prompt = True
    body, _ = stock.from_notebook_node(nb)
    old = str(BeautifulSoup(fallback.resolve_renderer(body, renderer), "html.parser"))
    soup = BeautifulSoup(fallback._exporter().from_notebook_node(nb)[0], "html.parser")
    fallback._nbconvert_fixes(soup)
    fallback._name_renderer(soup, renderer)
    return old, str(soup)


def test_one_parse_gives_the_pages_of_two(root):
    from tillit.book.render.numbering import number_floats
    from tillit.book.render.reader import reader_page
    from tillit.book.render.structure import book_pages
    from tillit.book.versions import RENDERER_SHORTCODE as code

    pages = book_pages(root)
    registry = number_floats(pages)
    seen = 0
    for page in pages:
        nb = fallback.reader_notebook(reader_page(page), registry, [])
        old, new = _both_ways(nb, "nbconvert-reserveløsningen (test & «prøve»)")
        assert new == old, page.id
        seen += "reserveløsningen (test &amp; «prøve»)" in new
    assert seen   # the fixture's methods appendix names the renderer
    odd = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("x", outputs=[nbformat.v4.new_output(
        "display_data", data={"text/html": f'<img src="a.png"><p title="{code}">{code} &amp; <!-- {code} --></p>'
                                           '<div class="jp-Notebook"><div class="jp-Cell-inputWrapper">i</div></div>'})])])
    odd.metadata["language_info"] = {"name": "python"}
    old, new = _both_ways(odd, "nbconvert (test)")
    assert new == old and 'alt="No description has been provided for this image"' in new and 'tabindex="0"' in new


def test_render_key_follows_the_notebook_pages_code(tmp_path, monkeypatch):
    # Notebook pages are reused while their notebook and the render's code are unchanged; the
    # page is made by tillit.book.provenance.notebook_page, so that file is part of the key.
    from tillit.book.render import run

    book = tmp_path / "book"
    (book / "templates").mkdir(parents=True)
    (book / "render").mkdir()
    (book / "templates" / "page.html.j2").write_text("<p></p>", encoding="utf-8")
    (book / "render" / "fallback.py").write_text("X = 1\n", encoding="utf-8")
    for name in ("context.py", "provenance.py"):
        (book / name).write_text("# v1\n", encoding="utf-8")
    monkeypatch.setattr(run, "BOOK_PACKAGE", book)
    monkeypatch.setattr(run, "PACKAGE", book / "render")
    first = run.templates_key()
    assert run.templates_key() == first
    (book / "provenance.py").write_text("# v2\n", encoding="utf-8")
    assert run.templates_key() != first
