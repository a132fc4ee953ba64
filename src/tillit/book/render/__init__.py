"""The HTML book: a real Quarto book project, rendered by Quarto where it exists, and an
nbconvert fallback that gives readers the same chapters, numbers and navigation where it
does not. See docs/rendering.md.

Both renderers read the executed notebooks in outputs/notebooks/ (never re-execute them) and
write outputs/book/. A render goes to a temporary directory first and replaces the book only
when complete, so a failed render leaves the last good book as it was.

Modules: structure (chapters, appendices, banner, title), numbering (figure/table numbers,
cross-references), markdown (Markdown → HTML for the fallback), fallback (nbconvert book),
quarto (Quarto project and run), run (render() and the command line).
"""
from tillit.book.render.fallback import reader_notebook, render_fallback
from tillit.book.render.markdown import markdown_to_html
from tillit.book.render.numbering import CROSSREF_RE, Float, number_floats, resolve_crossrefs
from tillit.book.render.quarto import quarto_config, write_quarto_project
from tillit.book.render.run import RenderResult, main, render
from tillit.book.render.structure import (GENERATED_MARK, LANGUAGE_FILE, TEMPLATES, Banner, BookError,
                                          BookMeta, Chapter, banner_for, book_meta, book_structure,
                                          data_source)

__all__ = ["Banner", "BookError", "BookMeta", "CROSSREF_RE", "Chapter", "Float", "GENERATED_MARK",
           "LANGUAGE_FILE", "RenderResult", "TEMPLATES", "banner_for", "book_meta", "book_structure",
           "data_source", "main", "markdown_to_html", "number_floats", "quarto_config", "reader_notebook",
           "render", "render_fallback", "resolve_crossrefs", "write_quarto_project"]
