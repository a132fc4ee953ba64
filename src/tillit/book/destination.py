"""Where published output may go: the one check for `output_dir` and `tillit batch --out`.

Everything the compendium writes (executed notebooks, tables, figures, the book, logs) goes
under one folder, and parts of it are replaced wholesale. That folder must therefore never
hold sources: with `output_dir: .` a build once overwrote every source notebook. The check
is called by the build, `tillit run`, `tillit render`, `tillit batch` and by a notebook run
on its own (``tillit.book.context.start``), so every way in refuses the same folders.
"""
from __future__ import annotations

from pathlib import Path

from tillit.config import ConfigError

# Top-level folders of the compendium that hold sources (or the environment). Output may go
# neither into them nor anywhere inside them; the repository root itself and its parents
# are refused too. data/ is refused as a whole: data/raw/ holds a researcher's real export
# and data/processed/ is replaced wholesale by the data-preparation step.
SOURCE_DIRS = ("notebooks", "params", "data", "src", "tests", "docs", "benchmarks", ".git", ".ci", ".venv",
               ".tillit")
# Written into every output folder the compendium creates, so a later run knows it is ours.
MARKER = ".tillit-utdata"
# Names that mark a folder as one the compendium wrote (so writing into it again is fine).
OUTPUT_MARKS = (MARKER, "manifest.json", "disclosure_log.csv", "summary.csv", "notebooks", "tables",
                "figures", "book", "disclosure", ".build.lock", "editions")  # editions/: tillit.build.editions


def _inside(path: Path, base: Path) -> bool:
    return path == base or base in path.parents


def check_output_dir(path: Path | str, root: Path, *, label: str = "output_dir",
                     raw_dir: Path | str | None = None, data_dir: Path | str | None = None) -> Path:
    """Return `path` resolved (relative paths against `root`) if output may be written there.

    Refused, with one line naming the setting, the folder and what to do:
    the repository root or any folder above it; any of :data:`SOURCE_DIRS` or a folder inside
    one; `raw_dir` (the researcher's export), a folder inside it or above it; `data_dir` or a
    folder inside it (the data step replaces it wholesale; a data_dir inside the output
    folder, as batch runs use, is fine); an existing file; and an existing folder with other
    content that the compendium did not write (it would be mixed with, or partly replaced by,
    the outputs).
    """
    root = Path(root).resolve()
    raw = Path(path)
    target = (raw if raw.is_absolute() else root / raw).resolve()
    hint = "velg en egen mappe, f.eks. outputs (standard) eller en ny mappe utenfor repoet"

    def refuse(why: str) -> ConfigError:
        return ConfigError(f"{label} = {str(path)!r} ({target}): {why}; {hint}")

    if _inside(root, target):
        raise refuse("er repoets rotmappe eller en mappe over den, der kildene ligger")
    for name in SOURCE_DIRS:
        if _inside(target, root / name):
            raise refuse(f"ligger i {name}/, som har kompendiets kilder")
    for what, other, both_ways in (("raw_dir", raw_dir, True), ("data_dir", data_dir, False)):
        if other is None:
            continue
        other_path = (Path(other) if Path(other).is_absolute() else root / other).resolve()
        if _inside(target, other_path) or (both_ways and _inside(other_path, target)):
            raise refuse(f"overlapper {what} ({other_path})")
    if target.exists() and not target.is_dir():
        raise refuse("finnes allerede og er en fil")
    if target.is_dir():
        entries = {p.name for p in target.iterdir()}
        if entries and not entries & set(OUTPUT_MARKS) and not all(e.startswith(".") for e in entries):
            raise refuse("finnes allerede og har andre filer enn kompendiets utdata")
    return target


def prepare_output_dir(path: Path | str, root: Path, *, label: str = "output_dir",
                       raw_dir: Path | str | None = None, data_dir: Path | str | None = None) -> Path:
    """:func:`check_output_dir`, then create the folder with its :data:`MARKER`."""
    target = check_output_dir(path, root, label=label, raw_dir=raw_dir, data_dir=data_dir)
    target.mkdir(parents=True, exist_ok=True)
    marker = target / MARKER
    if not marker.exists():
        marker.write_text("Mappen er skrevet av tillit (utdata); innholdet lages på nytt ved bygging.\n",
                          encoding="utf-8")
    return target


def check_output_file(path: Path | str, root: Path, *, label: str = "--output",
                      raw_dir: Path | str | None = None, data_dir: Path | str | None = None) -> Path:
    """Return `path` resolved if a file (an executed notebook) may be written there: not into
    the sources (:data:`SOURCE_DIRS`), `raw_dir` or `data_dir`, and not over a folder."""
    root = Path(root).resolve()
    raw = Path(path)
    target = (raw if raw.is_absolute() else root / raw).resolve()
    where = [(f"{name}/", root / name) for name in SOURCE_DIRS]
    where += [(what, (Path(p) if Path(p).is_absolute() else root / p).resolve())
              for what, p in (("raw_dir", raw_dir), ("data_dir", data_dir)) if p is not None]
    for what, base in where:
        if _inside(target, base):
            raise ConfigError(f"{label} = {str(path)!r} ({target}): ligger i {what}, som ikke skal "
                              "overskrives; velg en fil utenfor kildene, f.eks. outputs/annet/<navn>.ipynb")
    if target.is_dir():
        raise ConfigError(f"{label} = {str(path)!r} ({target}): er en mappe; gi et filnavn (….ipynb)")
    return target
