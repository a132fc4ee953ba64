"""The software that made the numbers, for the methods appendix.

The packages are read from the running kernel (importlib.metadata: what is installed is
what computed), so the appendix states the versions that actually ran, whether from the
pinned environment (requirements.lock) or not. The book's renderer is only known when the
book is rendered, after the notebooks ran: its row holds a Quarto shortcode,
`{{< meta tillit-renderer >}}`, which Quarto resolves from _quarto.yml and the fallback
replaces itself (tillit.book.render), so each book names the renderer that made it.

In the methods appendix (06_vedlegg):

    from tillit.book import versions
    ctx.prose(versions.versions_markdown())
"""
from __future__ import annotations

import platform
from importlib.metadata import PackageNotFoundError, version

# The packages whose versions can move a published number or the book built from them.
PACKAGES = ("pandas", "numpy", "scipy", "statsmodels", "seaborn", "matplotlib", "papermill")
RENDERER_SHORTCODE = "{{< meta tillit-renderer >}}"
LOCK_FILE = "requirements.lock"


def package_versions(packages: tuple[str, ...] = PACKAGES) -> dict[str, str]:
    """Package → installed version ("ikke installert" when missing), plus Python itself."""
    found = {"Python": platform.python_version()}
    for name in packages:
        try:
            found[name] = version(name)
        except PackageNotFoundError:
            found[name] = "ikke installert"
    return found


def versions_markdown(packages: tuple[str, ...] = PACKAGES) -> str:
    """A Markdown table of the versions, with the book's renderer as the last row."""
    rows = [f"| {name} | {ver} |" for name, ver in package_versions(packages).items()]
    rows.append(f"| Boka laget med | {RENDERER_SHORTCODE} |")
    return ("| Programvare | Versjon |\n|:---|:---|\n" + "\n".join(rows) + "\n\n"
            f"Versjonene er lest fra miljøet som kjørte notatbøkene. `make book` installerer dem "
            f"låst med sjekksummer fra `{LOCK_FILE}`.\n")
