"""The line under each figure and table: which notebook and cell made it, from which
parameters, data and commit — so a reader can trace any number to its code."""
from __future__ import annotations

import hashlib
import html
import json
import re
import subprocess
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path


def sha256_file(path: Path, chunk: int = 1 << 20) -> str:
    digest = hashlib.sha256()
    with Path(path).open("rb") as fh:
        while block := fh.read(chunk):
            digest.update(block)
    return digest.hexdigest()


def sha256_tree(directory: Path, pattern: str = "**/*") -> str:
    """One digest over every file below `directory` (names and contents, sorted)."""
    digest = hashlib.sha256()
    directory = Path(directory)
    for path in sorted(p for p in directory.glob(pattern) if p.is_file()):
        rel = path.relative_to(directory).as_posix()
        if rel.startswith(".") or "/." in rel:
            continue
        digest.update(rel.encode())
        digest.update(sha256_file(path).encode())
    return digest.hexdigest()


@lru_cache(maxsize=8)
def git_commit(root: str) -> str:
    """Short commit of the working tree, with '+endret' when it has uncommitted changes."""
    try:
        commit = subprocess.run(["git", "rev-parse", "--short=10", "HEAD"], cwd=root,
                                capture_output=True, text=True, timeout=10, check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=root,
                               capture_output=True, text=True, timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "ukjent"
    return f"{commit}+endret" if dirty else commit


def current_cell() -> int | None:
    """The execution count of the running cell, as the executed notebook records it (papermill
    runs cells in order), so ``#celle-<n>`` on the notebook's page is the cell that made it."""
    try:
        from IPython import get_ipython
    except ImportError:  # pragma: no cover - IPython is a dependency of ipykernel
        return None
    shell = get_ipython()
    # IPython counts the running cell before it runs it: during cell N the counter reads N + 1.
    return int(shell.execution_count) - 1 if shell is not None else None


# Where the numbers come from, in words a reader understands (the provenance line starts here).
SOURCE_WORDS = {
    "survey_2023": "spørreundersøkelse til alle ansatte 2023",
    "survey_2017": "kartleggingen av mål- og resultatstyring 2017",
    "md_brev_2022": "mål- og disponeringsbrevene (MD-brev) 2022",
    "exclusion_flow": "rensingen av eksporten fra spørreundersøkelsen",
    "registers/interviews": "oversikten over intervjuene",
    "registers/municipalities": "oversikten over kommunene som ble bedt om styringsdokumenter",
    "registers/gathering": "deltakerlisten fra storskalasamlingen",
    "registers/conversation_packages": "innsendte samtalepakker",
    "registers/experience_base": "Erfaringsbasen",
    "registers/grants": "tilskuddsordningen for utvikling av sosiale tjenester",
}
REPORT_SOURCE = "Delrapport 1"
TABLE_CSV = "Last ned tabellen (CSV)"
FIGURE_CSV = "Last ned tallene (CSV)"
XLSX_TEXT = "Excel"


def notebook_href(notebook: str, cell: int | None) -> str:
    """The rendered page of an executed notebook, at the cell (the renderer publishes
    ``notebooks/<name>.html`` with an anchor ``celle-<execution count>`` on every code cell)."""
    return f"notebooks/{notebook}.html" + (f"#celle-{cell}" if cell is not None else "")


@dataclass(frozen=True)
class Provenance:
    notebook: str
    cell: int | None
    params: str          # "params/default.yml" plus deviations, e.g. "min_cell=10"
    data_sha256: str
    commit: str
    source: str = ""     # the data source in words (HTML allowed: numbers are wrapped); "" = unknown
    report_only: bool = False   # a table of report facts: "Kilde: Delrapport 1", no code trail

    def as_dict(self) -> dict:
        return {"notebook": self.notebook, "cell": self.cell, "params": self.params,
                "data_sha256": self.data_sha256, "commit": self.commit, "source": self.source,
                "report_only": self.report_only, "href": notebook_href(self.notebook, self.cell)}

    def _cell_text(self) -> str:
        return f", celle [{self.cell}]" if self.cell is not None else ""

    def _lead(self) -> str:
        if self.report_only:
            return f"Kilde: {REPORT_SOURCE}."
        return f"Kilde: {self.source}." if self.source else ""

    @staticmethod
    def _xlsx(csv: str) -> str:
        return csv[: -len(".csv")] + ".xlsx" if csv.endswith(".csv") else csv + ".xlsx"

    def markdown(self, csv: str | None = None, csv_text: str = FIGURE_CSV) -> str:
        """The line in Markdown: the source in words, the downloads, then the code trail."""
        download = f" [{csv_text}]({csv}) · [{XLSX_TEXT}]({self._xlsx(csv)})" if csv else ""
        lead = self._lead()
        if self.report_only:
            return f"*{lead}*{download}"
        nb = f"[{self.notebook}.ipynb]({notebook_href(self.notebook, self.cell)})"
        trail = (f"Laget i notatbok {nb}{self._cell_text()} · parametere: {self.params} · "
                 f"data (SHA-256): `{self.data_sha256[:12]}` · commit `{self.commit}`")
        return f"*{lead + ' ' if lead else ''}{trail}*{download}"

    def html(self, csv: str | None = None, csv_text: str = FIGURE_CSV) -> str:
        download = ""
        if csv:
            download = (f' · <a class="csv" href="{html.escape(csv)}" download>{html.escape(csv_text)}</a>'
                        f' · <a class="xlsx" href="{html.escape(self._xlsx(csv))}" download>{XLSX_TEXT}</a>')
        lead = self._lead()
        lead_html = f'<span class="source">{lead}</span>' if lead else ""
        if self.report_only:
            return f'<p class="provenance">{lead_html}{download}</p>'
        nb = html.escape(self.notebook)
        trail = (
            f'<span class="trail">Laget i notatbok <a href="{html.escape(notebook_href(self.notebook, self.cell))}">'
            f"{nb}.ipynb</a>{html.escape(self._cell_text())} · parametere: {html.escape(self.params)} · "
            f'data (SHA-256): <code title="{self.data_sha256}">{self.data_sha256[:12]}</code> · '
            f"commit <code>{html.escape(self.commit)}</code></span>"
        )
        return f'<p class="provenance">{lead_html}{" " if lead else ""}{trail}{download}</p>'


# --- the executed notebook as a page a reader can open -----------------------------------------
def notebook_page(nb, title: str, back: str = "../index.html") -> str:
    """An executed notebook as a standalone HTML page, every code cell anchored
    ``id="celle-<execution count>"`` so a provenance link lands on the cell that made a figure.
    For the renderer (it writes ``notebooks/<name>.html`` next to the copied ``.ipynb``)."""
    import copy

    nb = copy.deepcopy(nb)
    for cell in nb.cells:
        if cell.get("cell_type") == "code":
            cell.outputs = [o for o in cell.get("outputs", []) if not _bare_repr(o)]
    uris = _hide_data_uris(nb)
    body, _ = _lab_exporter().from_notebook_node(nb)
    body = uris.restore(body)
    # An anchor in front of each code cell, in order (nbconvert's lab template gives every
    # code cell the class jp-CodeCell).
    counts = iter([c.get("execution_count") for c in nb.cells if c.get("cell_type") == "code"])

    def add_anchor(match: re.Match) -> str:
        count = next(counts, None)
        if count is None:
            return match.group(0)
        return f'<span class="cell-anchor" id="celle-{count}"></span>' + match.group(0)

    body = re.sub(r'<div[^>]*class="[^"]*jp-CodeCell[^"]*"', add_anchor, body)
    banner = (f'<p style="font-family:sans-serif;background:#fdf3e3;padding:.6rem 1rem;margin:0">'
              f'Kjørt notatbok: {html.escape(title)} · <a href="{html.escape(back)}">Tilbake til boka</a></p>')
    return _insert_after_body(body, banner)


@lru_cache(maxsize=1)
def _lab_exporter():
    """nbconvert's "lab" HTML exporter, made once per process (it compiles its templates on
    first use; its output does not depend on the notebooks it converted before)."""
    from nbconvert import HTMLExporter

    exporter = HTMLExporter(template_name="lab")
    exporter.exclude_input_prompt = False
    return exporter


def _markdown_texts(nb):
    """(holder, key) of every Markdown text nbconvert parses: Markdown cells' sources and
    text/markdown outputs (a list of lines or a string)."""
    for cell in nb.cells:
        if cell.get("cell_type") == "markdown":
            yield cell, "source"
        for out in cell.get("outputs", []) if cell.get("cell_type") == "code" else []:
            if "text/markdown" in out.get("data", {}):
                yield out["data"], "text/markdown"


def _hide_data_uris(nb):
    """The data: URIs in the (copied) notebook's Markdown swapped for short tokens
    (tillit.book.render.markdown.DataURIs: mistune is slow on them); the returned object's
    `restore` puts them back into the page, which comes out byte for byte the same."""
    from tillit.book.render.markdown import DataURIs

    def text(value) -> str:
        return "".join(value) if isinstance(value, list) else value

    # The token's stem must occur nowhere in the notebook (its code and other outputs reach the
    # page too), so a text that looks like a token is never taken for one.
    uris = DataURIs(json.dumps(nb, ensure_ascii=False))
    places = list(_markdown_texts(nb))
    for holder, key in places:
        if "base64," in text(holder[key]):
            holder[key] = uris.hide(text(holder[key]))
    return uris


BARE_REPR_RE = re.compile(r"^<[\w.]+ object at 0x[0-9a-fA-F]+>$")


def _bare_repr(output) -> bool:
    """An output that is nothing but Python's default repr ("<pandas.… object at 0x…>"): it
    says nothing to a reader and names no value, so the notebook page leaves it out."""
    if output.get("output_type") not in ("execute_result", "display_data"):
        return False
    data = output.get("data", {})
    text = data.get("text/plain", "")
    text = "".join(text) if isinstance(text, list) else text
    return set(data) == {"text/plain"} and bool(BARE_REPR_RE.match(text.strip()))


def _insert_after_body(page: str, fragment: str) -> str:
    m = re.search(r"<body[^>]*>", page)
    return page[: m.end()] + fragment + page[m.end():] if m else fragment + page
