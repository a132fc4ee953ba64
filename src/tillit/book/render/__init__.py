"""The HTML book: a real Quarto book project, rendered by Quarto where it exists, and an
nbconvert fallback that gives readers the same pages, numbers and navigation where it does
not. See docs/rendering.md.

Both renderers read the executed notebooks in outputs/notebooks/ (never re-execute them) and
write outputs/book/. A render goes to a temporary directory first and replaces the book only
when complete, so a failed render leaves the last good book as it was; a render whose inputs
have not changed is skipped.

Modules: structure (pages: chapters and appendices, their numbers; banner, title),
numbering (figure/table and section numbers, cross-references), reader (what a reader sees
of a cell, for both renderers), markdown (Markdown → HTML for the fallback; headings),
fallback (nbconvert book), quarto (Quarto project and run), run (render(), the cache, the
command line). Names are imported on first use, so `render()` on an unchanged book loads
none of nbconvert, nbformat or BeautifulSoup.
"""
from importlib import import_module

_EXPORTS = {
    "RenderResult": "run", "main": "run", "render": "run", "render_key": "run",
    "render_modules": "run",
    "Banner": "structure", "BookError": "structure", "BookMeta": "structure", "Page": "structure",
    "GENERATED_MARK": "structure", "LANGUAGE_FILE": "structure", "TEMPLATES": "structure",
    "APPENDIX_WORD": "structure", "banner_for": "structure", "book_meta": "structure",
    "book_pages": "structure", "data_source": "structure",
    "CROSSREF_RE": "numbering", "Float": "numbering", "number_floats": "numbering",
    "resolve_crossrefs": "numbering", "SectionCounter": "numbering",
    "markdown_to_html": "markdown", "pandoc_identifier": "markdown", "Heading": "markdown",
    "reader_page": "reader", "ReaderPage": "reader",
    "reader_notebook": "fallback", "render_fallback": "fallback",
    "quarto_config": "quarto", "write_quarto_project": "quarto",
}
__all__ = sorted(_EXPORTS)


def __getattr__(name: str):
    if name in _EXPORTS:
        value = getattr(import_module(f"tillit.book.render.{_EXPORTS[name]}"), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'tillit.book.render' has no attribute {name!r}")
