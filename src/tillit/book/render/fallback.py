"""The nbconvert fallback: the same pages, numbers and navigation as the Quarto book, from
the reader's cells (tillit.book.render.reader) and our own page layout (templates/).

Each page's inputs are hashed (its cells, the table of contents, the numbers of the figures
and tables it cites, the banner, the templates), so a re-render after an edit to one chapter
rewrites that page and the pages whose navigation or cross-references changed, and reuses the
others from the previous book. The pages to render are PageJobs (tillit.book.render.jobs),
in a second process where there is a second CPU, and are written in book order.
"""
from __future__ import annotations

import hashlib
import html
import json
import re
import shutil
from datetime import date
from pathlib import Path

from tillit.book.render.jobs import PageJobs
from tillit.book.render.markdown import DATA_URI_RE, _attrs, markdown_to_html, pandoc_identifier
from tillit.book.render.numbering import (CROSSREF_RE, Float, SectionCounter, number_floats,
                                          resolve_crossrefs, tillit_meta)
from tillit.book.render.reader import ReaderPage, reader_page
from tillit.book.render.structure import (APPENDIX_WORD, FIG_TITLE, INDEX_HEADING, TBL_TITLE, TEMPLATES, Banner,
                                          BookError, Page, banner_for, book_meta, book_pages, data_source)

HEADING_ATTR_RE = re.compile(r"\s*\{([^{}]*)\}\s*$")
REPR_PATTERNS = (re.compile(r"<pandas\."), re.compile(r"Traceback \(most recent call last\)"),
                 re.compile(r"(?<![\w@/.])@(?:fig|tbl)-\w"),  # an unresolved cross-reference
                 re.compile(r"<(?:matplotlib|statsmodels|tillit)\.[\w.]+ object at 0x"))
STATIC = ("book.css", "search.js", "scroll-regions.js", "favicon.svg")
CACHE_FILE = ".render-pages.json"
# Pygments' "xcode": every token colour at least 4.5:1 on the fold's background (#f5f6f8);
# "friendly" has comments at 2.7:1 (axe color-contrast once the folds are opened).
CODE_STYLE = "xcode"
RELATIVE_URL_RE = re.compile(r'(\b(?:href|src|srcset)=")(?!#|/|\.\./|[A-Za-z][A-Za-z0-9+.-]*:)([^"]+")')
EXTERNAL_SCRIPT_RE = re.compile(r'<script\b[^>]*\bsrc="https?://[^"]*"[^>]*>\s*</script>', re.S)


# --------------------------------------------------------------------------------------
# One page's HTML body
# --------------------------------------------------------------------------------------
CAPTION_RE = {"fig": re.compile(r"<figcaption\b[^>]*>"), "tbl": re.compile(r"<caption\b[^>]*>")}
IMG_NO_ALT_RE = re.compile(r'<img\b(?![^>]*\balt="[^"]+")[^>]*>')


def _numbered_fragment(fragment: str, meta: dict, registry: dict[str, Float]) -> str:
    """The display helper's HTML fragment with Quarto's caption number put in front."""
    target = registry.get(meta.get("label", ""))
    if target is not None:
        title = FIG_TITLE if target.kind == "fig" else TBL_TITLE
        number = f'<span class="float-number">{title} {target.number}: </span>'
        fragment = CAPTION_RE[target.kind].sub(lambda m: m.group(0) + number, fragment, count=1)
    if meta.get("alt") and IMG_NO_ALT_RE.search(fragment):
        from bs4 import BeautifulSoup

        soup = BeautifulSoup(fragment, "html.parser")
        for img in soup.find_all("img"):
            if not (img.get("alt") or "").strip():
                img["alt"] = meta["alt"]
        fragment = str(soup)
    return fragment


def _output_html(out: dict, rp: ReaderPage, i: int, registry: dict[str, Float], warnings: list[str]) -> str | None:
    data = out.get("data", {})
    meta = tillit_meta(out)
    context = rp.where(i)
    if meta and meta.get("kind") in ("figure", "table") and not isinstance(meta.get("html"), str):
        raise BookError(f"{context}: {meta.get('kind')} '{meta.get('label')}' mangler "
                        "metadata['tillit']['html'] (lag den med tillit.book.display)")
    if meta and isinstance(meta.get("html"), str):
        return _numbered_fragment(meta["html"], meta, registry)
    if "text/markdown" in data:
        return markdown_to_html(resolve_crossrefs(data["text/markdown"], registry, rp.page.page, context))
    if "image/png" in data or "image/svg+xml" in data:
        alt = (meta or {}).get("alt") or ""
        if not alt:
            warnings.append(f"{context}: figur uten tillit-metadata og alternativ tekst")
            alt = f"Figur fra notatboken {rp.page.notebook} uten beskrivelse"
        if "image/png" in data:
            src = "data:image/png;base64," + str(data["image/png"]).replace("\n", "")
            return f'<figure class="plain-figure"><img src="{src}" alt="{html.escape(alt, quote=True)}"></figure>'
        return (f'<figure class="plain-figure" role="img" aria-label="{html.escape(alt, quote=True)}">'
                f'{data["image/svg+xml"]}</figure>')
    if "text/html" in data:
        return data["text/html"]
    return None


def reader_notebook(rp: ReaderPage, registry: dict[str, Float], warnings: list[str]):
    """The reader's cells as an nbformat notebook for the exporter: every output reduced to
    one text/html bundle, every Markdown cell's HTML in metadata['tillit_html']."""
    import nbformat

    cells = []
    for i, cell in enumerate(rp.cells):
        if cell["cell_type"] == "markdown":
            md = nbformat.v4.new_markdown_cell(cell["source"])
            md.metadata["tillit_html"] = markdown_to_html(
                resolve_crossrefs(cell["source"], registry, rp.page.page, rp.where(i)))
            cells.append(md)
            continue
        code = nbformat.v4.new_code_cell(cell["source"], metadata=dict(cell["metadata"]))
        for out in cell["outputs"]:
            content = _output_html(out, rp, i, registry, warnings)
            if content is not None:
                code.outputs.append(nbformat.v4.new_output("display_data", data={"text/html": content}))
        cells.append(code)
    for origin, why in rp.dropped:
        warnings.append(f"{origin[0]}: celle {origin[1]}: {why}")
    nb = nbformat.v4.new_notebook(cells=cells)
    nb.metadata["language_info"] = {"name": "python"}
    return nb


def number_sections(soup, page: Page) -> list[dict]:
    """Number h2–h6 as Quarto does (4.1, 4.2.4.8; `.unnumbered` skipped), give them Pandoc's
    identifiers, and return the page's top sections for the sidebar."""
    sections: list[dict] = []
    counter = SectionCounter(page.number)
    used = {t["id"] for t in soup.find_all(id=True)}
    for tag in soup.find_all(["h2", "h3", "h4", "h5", "h6"]):
        if tag.find_parent(class_="callout") or tag.find_parent("figure"):
            continue
        classes = list(tag.get("class", []))
        last = tag.find_all(string=True)
        if last:
            m = HEADING_ATTR_RE.search(last[-1])
            if m:
                ident, extra = _attrs(m.group(1))
                last[-1].replace_with(last[-1][: m.start()].rstrip())
                classes += extra
                if ident:
                    tag["id"] = ident
                    used.add(ident)
        if classes:
            tag["class"] = classes
        if not tag.get("id"):
            tag["id"] = pandoc_identifier(tag.get_text(" ", strip=True), used)
        number = counter.number(int(tag.name[1]), "unnumbered" not in classes)
        if number:
            span = soup.new_tag("span", attrs={"class": "header-section-number"})
            span.string = number
            tag.insert(0, span)
            span.insert_after(" ")
        if tag.name == "h2":
            sections.append({"id": tag["id"], "title": tag.get_text(" ", strip=True)})
    return sections


def _page_text(soup) -> str:
    """The page's visible text for search and the last guard: no folded code, scripts or styles."""
    skip = ("script", "style")
    parts = [t for t in soup.find_all(string=True)
             if t.parent.name not in skip and not any(p.name == "details" and "code" in (p.get("class") or [])
                                                      for p in t.parents)]
    return re.sub(r"\s+", " ", " ".join(parts)).strip()


# --------------------------------------------------------------------------------------
# The book
# --------------------------------------------------------------------------------------
def _jinja():
    import jinja2

    return jinja2.Environment(loader=jinja2.FileSystemLoader(str(TEMPLATES)), autoescape=True,
                              trim_blocks=True, lstrip_blocks=True)


def _exporter():
    from nbconvert import HTMLExporter
    from nbconvert.exporters.templateexporter import TemplateExporter
    from nbconvert.filters.highlight import Highlight2HTML
    from nbconvert.filters.widgetsdatatypefilter import WidgetsDataTypeFilter

    class ChapterExporter(HTMLExporter):
        """nbconvert's HTMLExporter.from_notebook_node without its last step, a BeautifulSoup
        parse of the whole body to add alt text and tab stops (_nbconvert_fixes): each page is
        parsed once, by the caller, instead of twice (tests/test_render_speed.py checks that
        the page is the same as HTMLExporter's)."""

        def from_notebook_node(self, nb, resources=None, **kw):
            langinfo = nb.metadata.get("language_info", {})
            lexer = langinfo.get("pygments_lexer", langinfo.get("name", None))
            highlight_code = self.filters.get("highlight_code", Highlight2HTML(pygments_lexer=lexer, parent=self))
            resources = self._init_resources(resources)
            filter_data_type = WidgetsDataTypeFilter(notebook_metadata=self._nb_metadata, parent=self,
                                                     resources=resources)
            self.register_filter("highlight_code", highlight_code)
            self.register_filter("filter_data_type", filter_data_type)
            return TemplateExporter.from_notebook_node(self, nb, resources, **kw)

    exporter = ChapterExporter(extra_template_basedirs=[str(TEMPLATES)], template_name="tillit_chapter")
    exporter.exclude_input_prompt = True
    exporter.exclude_output_prompt = True
    return exporter


def _nbconvert_fixes(soup) -> None:
    """What HTMLExporter does to the parsed body before it returns it (nbconvert 7)."""
    for elem in soup.select("img:not([alt])"):
        elem.attrs["alt"] = "No description has been provided for this image"
    for elem in soup.select(".jp-Notebook div.jp-Cell-inputWrapper"):
        elem.attrs["tabindex"] = "0"
    for elem in soup.select(".jp-Notebook div.jp-OutputArea-output"):
        elem.attrs["tabindex"] = "0"


def copy_assets(root: Path, out: Path, previous: Path | None = None, names: list[str] | None = None,
                templates_key: str = "", pages: bool = True) -> dict:
    """Figures, tables and the executed notebooks into the book, each notebook also as a page
    `notebooks/<name>.html` with every code cell anchored (tillit.book.provenance.notebook_page:
    provenance lines link the cell that made a figure). A notebook page whose notebook is
    unchanged since the `previous` book is copied from it; the others are rendered, in a second
    process too when there are two or more (PageJobs). Returns {name: sha256} of the notebooks."""
    digests, todo = _copy_notebooks(root, out, previous, names, templates_key, pages)
    if len(todo) > 1:
        _warm_up({}, notebooks=True)
    with PageJobs({}, expect=len(todo)) as jobs:
        started = {path: jobs.submit(_notebook_job, path) for path in _largest_first(todo)}
        for path, page in todo.items():
            page.write_text(started[path].result(), encoding="utf-8")
    return digests


def _copy_notebooks(root: Path, out: Path, previous: Path | None, names: list[str] | None,
                    templates_key: str, pages: bool = True) -> tuple[dict, dict[Path, Path]]:
    """copy_assets' copying: figures, tables, notebooks, and the notebook pages kept from the
    `previous` book. Returns ({name: sha256}, {notebook: its page still to render}) in name order."""
    outputs = root / "outputs"
    for sub in ("figures", "tables"):
        if (outputs / sub).is_dir():
            shutil.copytree(outputs / sub, out / sub, dirs_exist_ok=True)
    nb_dir = outputs / "notebooks"
    digests: dict[str, str] = {}
    todo: dict[Path, Path] = {}
    if not nb_dir.is_dir():
        return digests, todo
    (out / "notebooks").mkdir(parents=True, exist_ok=True)
    try:
        old = json.loads((previous / CACHE_FILE).read_text(encoding="utf-8")).get("notebooks", {}) if previous else {}
    except (OSError, json.JSONDecodeError):
        old = {}
    for path in sorted(nb_dir.glob("*.ipynb")):
        if names is not None and path.stem not in names:
            continue
        data = path.read_bytes()
        shutil.copy2(path, out / "notebooks" / path.name)
        digests[path.stem] = hashlib.sha256(data + templates_key.encode()).hexdigest()
        if not pages:
            continue
        page = out / "notebooks" / f"{path.stem}.html"
        kept = previous / "notebooks" / page.name if previous else None
        if kept is not None and old.get(path.stem) == digests[path.stem] and kept.is_file():
            shutil.copy2(kept, page)
            continue
        todo[path] = page
    return digests, todo


def _notebook_job(shared: dict, path: Path) -> str:
    """The page of one executed notebook (a PageJobs job)."""
    import nbformat

    from tillit.book.provenance import notebook_page

    text = notebook_page(nbformat.reads(path.read_bytes().decode("utf-8"), as_version=4), path.stem)
    # nbconvert's lab template loads require.js and MathJax from a CDN: a published book
    # makes no request elsewhere (privacy, offline reading), and these notebooks use neither.
    text = EXTERNAL_SCRIPT_RE.sub("", text).replace('<html lang="en">', '<html lang="nb">', 1)
    # The outputs link book pages and files relative to the book; this page is one level down.
    text = RELATIVE_URL_RE.sub(r"\1../\2", text)
    style = "<style>\n" + _notebook_css() + "</style>\n"
    return text.replace("</head>", style + "</head>", 1) if "</head>" in text else style + text


def _largest_first(todo: dict[Path, Path]) -> list[Path]:
    """The notebooks to render, the largest first (the pool's two workers finish together)."""
    return sorted(todo, key=lambda p: (-p.stat().st_size, p.name))


def _notebook_css() -> str:
    from pygments.formatters import HtmlFormatter

    tokens = HtmlFormatter(style=CODE_STYLE).get_style_defs(".highlight")
    tokens = re.sub(r"(color|background-color): (#[0-9a-fA-F]{3,6})", r"\1: \2 !important", tokens)
    return (TEMPLATES / "static" / "notebook-page.css").read_text(encoding="utf-8") + tokens + "\n"


def _book_notebooks(root: Path) -> list[str]:
    """The pipeline's notebooks (stale executed notebooks of renamed chapters stay out)."""
    from tillit.config import load_pipeline

    return load_pipeline(root=root).names()


def _digest(*parts) -> str:
    return hashlib.sha256(json.dumps(parts, sort_keys=True, ensure_ascii=False, default=str).encode()).hexdigest()


def _cited(rp: ReaderPage) -> list[str]:
    texts = [c["source"] if c["cell_type"] == "markdown" else
             " ".join((o.get("data") or {}).get("text/markdown", "") for o in c["outputs"]) for c in rp.cells]
    return sorted({f"{m.group(2).lower()}-{m.group(3)}" for t in texts if "@" in t
                   for m in CROSSREF_RE.finditer(_short_payloads(t))})


def _short_payloads(text: str) -> str:
    """`text` with each data: URI's base64 payload cut to its last character: the figures'
    Markdown is mostly payload (hundreds of kB), which the cross-reference regex would step
    through character by character. No cross-reference starts or ends inside a payload (no
    "@"; the URI's "," and the ")" after it end a label) and the character before an "@"
    stays what it was, so the same cross-references are found."""
    return DATA_URI_RE.sub(lambda m: m.group(1) + m.group(2)[-1], text) if "base64," in text else text


def _previous(previous: Path | None) -> dict:
    try:
        return json.loads((previous / CACHE_FILE).read_text(encoding="utf-8")) if previous else {}
    except (OSError, json.JSONDecodeError):
        return {}


def resolve_renderer(body: str, renderer: str) -> str:
    """The methods appendix's renderer row (tillit.book.versions): Quarto resolves the
    shortcode itself, the fallback names itself here (raw or HTML-escaped)."""
    from tillit.book.versions import RENDERER_SHORTCODE

    return (body.replace(RENDERER_SHORTCODE, html.escape(renderer))
            .replace(html.escape(RENDERER_SHORTCODE, quote=False), html.escape(renderer)))


def _name_renderer(soup, renderer: str) -> None:
    """resolve_renderer on the parsed page: the shortcode in its text and attribute values."""
    from tillit.book.versions import RENDERER_SHORTCODE as code

    for text in soup.find_all(string=lambda t: code in t):
        text.replace_with(type(text)(text.replace(code, renderer)))
    for tag in soup.find_all(lambda t: any(code in v for v in t.attrs.values() if isinstance(v, str))):
        for name, value in tag.attrs.items():
            if isinstance(value, str):
                tag.attrs[name] = value.replace(code, renderer)


def render_fallback(root: Path, out: Path, previous: Path | None = None,
                    templates_key: str = "", renderer: str = "nbconvert") -> tuple[list[Path], list[str], dict]:
    """Write the whole fallback book into `out` (an empty directory), reusing unchanged
    pages from the `previous` book. Returns (pages, warnings, {"rendered": [...], "reused": [...]}).

    The pages and notebook pages to render are PageJobs (two processes where there are two
    CPUs; the notebook pages start while the book's pages are worked out) and are written in
    book order; the first failing page in that order raises, as a serial render would."""
    pages = book_pages(root)
    last = _previous(previous)
    notebooks, nb_todo = _copy_notebooks(root, out, previous, _book_notebooks(root), templates_key)
    shared = {"env": _jinja()}
    with PageJobs(shared) as jobs:
        if nb_todo:
            _warm_up(shared, notebooks=True)
            jobs.expect(len(nb_todo))
        started: dict = {("nb", path): jobs.submit(_notebook_job, path) for path in _largest_first(nb_todo)}
        info = data_source(root)
        banner_key = _digest(info, templates_key)
        if last.get("banner_key") == banner_key and isinstance(last.get("banner"), list):
            banner = Banner(*last["banner"])   # its wording module imports pandas: skip when unchanged
        else:
            banner = banner_for(info)
        meta = book_meta(root)
        contexts = _page_contexts(pages, out, info, banner, meta, renderer)
        keys = [_page_key(ctx, templates_key) for ctx in contexts]
        old = last.get("pages", {})
        todo = [k for k, page in enumerate(pages) if not (
            old.get(page.id, {}).get("key") == keys[k] and previous and (previous / page.page).is_file())]
        if todo:
            _warm_up(shared, notebooks=False)
            jobs.expect(len(todo) + len(nb_todo))
        for k in sorted(todo, key=lambda k: -_page_cost(contexts[k])):
            started["page", k] = jobs.submit(_page_job, contexts[k])
        record, warnings, done = _write_pages(pages, out, started, keys, old, previous)
        common, toc = contexts[0]["common"], contexts[0]["toc"]
        _write_index(out, shared["env"], common, toc, meta, banner)
        search = [{"url": "index.html", "title": meta.title, "text": f"{banner.title}. {banner.text}"}]
        search += [{"url": p.page, "title": p.heading, "text": record[p.id]["text"]} for p in pages]
        _write_static(out, search)
        for path, page in nb_todo.items():
            page.write_text(started["nb", path].result(), encoding="utf-8")
    (out / CACHE_FILE).write_text(json.dumps({"pages": record, "banner_key": banner_key, "banner": list(
        (banner.title, banner.text, banner.level)), "notebooks": notebooks}, ensure_ascii=False), encoding="utf-8")
    return [out / "index.html", *(out / p.page for p in pages)], warnings, done


def _page_contexts(pages: list[Page], out: Path, info: dict, banner, meta, renderer: str) -> list[dict]:
    """Everything page k is made from, one dict per page (a page job's argument)."""
    registry = number_floats(pages)
    toc = [{"name": p.id, "heading": p.heading, "label": p.toc_label, "page": p.page, "kind": p.kind,
            "number": p.number, "title": p.title} for p in pages]
    common = dict(book_title=meta.title, subtitle=meta.subtitle, author=meta.author, banner=banner,
                  data_kind=info["kind"], build_date=date.today().strftime("%d.%m.%Y"),
                  generator="nbconvert-fallback", appendix_word=APPENDIX_WORD,
                  index_heading=INDEX_HEADING, index_id=pandoc_identifier(INDEX_HEADING, set()))
    return [{"page": page, "rp": reader_page(page), "k": k, "registry": registry, "toc": toc, "common": common,
             "renderer": renderer, "target": str(out / page.page),
             "prev": toc[k - 1] if k > 0 else {"page": "index.html", "heading": INDEX_HEADING},
             "next": toc[k + 1] if k + 1 < len(toc) else None} for k, page in enumerate(pages)]


def _page_key(ctx: dict, templates_key: str) -> str:
    """What a page is made from: when it is unchanged, the page is copied from the last book."""
    registry = ctx["registry"]
    cited = {label: registry[label].number + registry[label].page for label in _cited(ctx["rp"]) if label in registry}
    return _digest(ctx["rp"].cells, ctx["toc"], ctx["prev"], ctx["next"], cited, ctx["common"]["banner"],
                   ctx["common"], templates_key, ctx["renderer"])


def _page_cost(ctx: dict) -> int:
    """A rough size of a page's work, to start the largest jobs first."""
    return sum(len(c["source"]) + sum(len(json.dumps(o.get("metadata", {}))) for o in c.get("outputs", []))
               for c in ctx["rp"].cells)


def prepare() -> None:
    """Ahead of a render, what its warm-up starts that outlives it in this process: the
    modules, the notebook pages' exporter (made once per process), nbconvert's and pygments'
    caches. `tillit build` runs this while the chapters run (tillit.build.pipeline.preload);
    the render still warms up as always, only faster. Its output does not change."""
    _warm_up({"env": _jinja()}, notebooks=True)


def _warm_up(shared: dict, notebooks: bool) -> None:
    """Import and start what the jobs use before the workers fork, so each has it already:
    the modules, the exporter of notebook pages (`notebooks`) and, when `shared` has the page
    templates, the book pages' exporter, each run on a tiny notebook once (their templates,
    lexer, validator and sanitizer start on first use: ~0.1 s a process)."""
    import bs4  # noqa: F401
    import markupsafe  # noqa: F401
    import nbformat

    from tillit.book import provenance

    tiny = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("*a*"), nbformat.v4.new_code_cell(
        "x = 1", execution_count=1, outputs=[nbformat.v4.new_output("display_data", data={"text/markdown": "*a*"})])])
    tiny.metadata["language_info"] = {"name": "python"}
    tiny = nbformat.reads(nbformat.writes(tiny), as_version=4)
    if notebooks and not shared.get("lab_ready"):
        provenance.notebook_page(tiny, "x")
        shared["lab_ready"] = True
    if "env" in shared and "exporter" not in shared:
        shared["exporter"] = _exporter()
        bs4.BeautifulSoup(shared["exporter"].from_notebook_node(tiny)[0], "html.parser")
        shared["env"].get_template("page.html.j2")


def _write_pages(pages: list[Page], out: Path, started: dict, keys: list[str], old: dict, previous: Path | None):
    """Each page into the book, in book order: its rendered HTML, or the last book's copy."""
    record: dict[str, dict] = {}
    warnings: list[str] = []
    done: dict[str, list[str]] = {"rendered": [], "reused": []}
    for k, page in enumerate(pages):
        target = out / page.page
        if ("page", k) not in started:
            shutil.copy2(previous / page.page, target)
            record[page.id] = old[page.id]
            warnings += old[page.id].get("warnings", [])
            done["reused"].append(page.id)
            continue
        html_text, text, page_warnings = started["page", k].result()
        target.write_text(html_text, encoding="utf-8")
        record[page.id] = {"key": keys[k], "text": text, "warnings": page_warnings}
        warnings += page_warnings
        done["rendered"].append(page.id)
    return record, warnings, done


def _page_job(shared: dict, ctx: dict) -> tuple[str, str, list[str]]:
    """One page of the book (a PageJobs job): its HTML, its visible text, its warnings."""
    from bs4 import BeautifulSoup
    from markupsafe import Markup

    page, rp, toc = ctx["page"], ctx["rp"], ctx["toc"]
    exporter = shared.get("exporter") or _exporter()
    env = shared.get("env") or _jinja()
    page_warnings: list[str] = []
    body, _ = exporter.from_notebook_node(reader_notebook(rp, ctx["registry"], page_warnings))
    soup = BeautifulSoup(body, "html.parser")
    _nbconvert_fixes(soup)
    _name_renderer(soup, ctx["renderer"])
    sections = number_sections(soup, page)
    html_text = env.get_template("page.html.j2").render(
        **ctx["common"], toc=toc, page=page.page, is_index=False, heading=page.heading, chapter=toc[ctx["k"]],
        sections=sections, body=Markup(str(soup)), prev=ctx["prev"], next=ctx["next"])
    text = _page_text(soup)
    check_text(ctx["target"], text)
    return html_text, text, page_warnings


def _write_index(out: Path, env, common: dict, toc: list[dict], meta, banner) -> None:
    from markupsafe import Markup

    from bs4 import BeautifulSoup

    intro = BeautifulSoup(markdown_to_html((TEMPLATES / "index_intro.md").read_text(encoding="utf-8")), "html.parser")
    used = {common["index_id"], "innhold"}
    for tag in intro.find_all(["h2", "h3", "h4", "h5", "h6"]):   # the front page is unnumbered
        tag["id"] = tag.get("id") or pandoc_identifier(tag.get_text(" ", strip=True), used)
        tag["class"] = [*tag.get("class", []), "unnumbered"]
    intro = str(intro)
    (out / "index.html").write_text(env.get_template("page.html.j2").render(
        **common, toc=toc, page="index.html", is_index=True, heading=meta.title,
        intro=Markup(intro), body="", sections=[], prev=None, next=toc[0]), encoding="utf-8")


def _write_static(out: Path, search: list[dict]) -> None:
    static = out / "static"
    static.mkdir(exist_ok=True)
    for name in STATIC:
        shutil.copy2(TEMPLATES / "static" / name, static / name)
    from pygments.formatters import HtmlFormatter

    (static / "pygments.css").write_text(HtmlFormatter(style=CODE_STYLE).get_style_defs(".highlight"),
                                         encoding="utf-8")
    (static / "search-index.js").write_text(
        "window.TILLIT_SEARCH = " + json.dumps(search, ensure_ascii=False) + ";\n", encoding="utf-8")


def check_text(page: str, visible: str) -> None:
    """Last guard: no page may show a traceback or a raw Python repr."""
    for pattern in REPR_PATTERNS:
        m = pattern.search(visible)
        if m:
            raise BookError(f"{page}: siden viser rå Python-utdata ({m.group(0)!r})")
