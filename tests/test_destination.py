"""tillit.book.destination: where output may go (output_dir, tillit batch --out, tillit run -o).

The same check is used by the build, `tillit run`, `tillit render`, `tillit batch` and a
notebook run on its own (context.start); the command-level cases are in test_pipeline,
test_batch and test_cli.
"""
from __future__ import annotations

import pytest

from tillit.book.destination import MARKER, check_output_dir, check_output_file, prepare_output_dir
from tillit.config import ConfigError


@pytest.fixture
def repo(tmp_path):
    root = tmp_path / "komp"
    for sub in ("notebooks", "params", "data/raw", "data/processed", "src/tillit", "docs", "outputs"):
        (root / sub).mkdir(parents=True)
    (root / "notebooks" / "01.ipynb").write_text("{}", encoding="utf-8")
    return root


@pytest.mark.parametrize("value,why", [
    (".", "rotmappe"), ("..", "rotmappe"), ("/", "rotmappe"),
    ("notebooks", "notebooks/"), ("notebooks/ut", "notebooks/"), ("params", "params/"),
    ("data", "data/"), ("data/processed/ut", "data/"), ("src", "src/"), ("docs/bok", "docs/"),
])
def test_source_folders_are_refused(repo, value, why):
    with pytest.raises(ConfigError) as info:
        check_output_dir(value, repo)
    msg = str(info.value)
    assert msg.startswith(f"output_dir = {value!r}") and why in msg and "velg en egen mappe" in msg
    assert "\n" not in msg


def test_raw_and_data_dir_elsewhere_are_protected(repo, tmp_path):
    raw = tmp_path / "forsker" / "eksport"
    raw.mkdir(parents=True)
    with pytest.raises(ConfigError, match="overlapper raw_dir"):
        check_output_dir(raw / "ut", repo, raw_dir=raw)
    with pytest.raises(ConfigError, match="overlapper raw_dir"):
        check_output_dir(raw.parent, repo, raw_dir=raw)        # a folder holding the export
    processed = tmp_path / "klargjort"
    with pytest.raises(ConfigError, match="overlapper data_dir"):
        check_output_dir(processed, repo, data_dir=processed)
    # data_dir inside the output folder (as batch runs use) is fine.
    assert check_output_dir(tmp_path / "batch", repo, data_dir=tmp_path / "batch" / "processed")


def test_good_places(repo, tmp_path):
    assert check_output_dir("outputs", repo) == (repo / "outputs").resolve()
    assert check_output_dir("outputs/batch/x", repo) == (repo / "outputs/batch/x").resolve()
    assert check_output_dir(tmp_path / "ny", repo) == (tmp_path / "ny").resolve()


def test_a_foreign_folder_is_refused_and_ours_is_marked(repo, tmp_path):
    theirs = tmp_path / "dokumenter"
    theirs.mkdir()
    (theirs / "rapport.docx").write_text("x", encoding="utf-8")
    with pytest.raises(ConfigError, match="har andre filer enn kompendiets utdata"):
        check_output_dir(theirs, repo)
    (tmp_path / "fil").write_text("x", encoding="utf-8")
    with pytest.raises(ConfigError, match="er en fil"):
        check_output_dir(tmp_path / "fil", repo)
    ours = prepare_output_dir(tmp_path / "ut", repo)
    assert (ours / MARKER).is_file()
    (ours / "noe.csv").write_text("x", encoding="utf-8")
    assert check_output_dir(ours, repo) == ours      # the marker says it is ours


def test_output_file_not_into_sources(repo, tmp_path):
    with pytest.raises(ConfigError, match="ligger i notebooks/"):
        check_output_file("notebooks/01.ipynb", repo)
    with pytest.raises(ConfigError, match="ligger i raw_dir"):
        check_output_file(tmp_path / "eksport/x.ipynb", repo, raw_dir=tmp_path / "eksport")
    with pytest.raises(ConfigError, match="er en mappe"):
        check_output_file(tmp_path, repo)
    assert check_output_file("outputs/annet/01.ipynb", repo) == (repo / "outputs/annet/01.ipynb").resolve()


def test_a_notebook_run_alone_is_checked_too(monkeypatch):
    from tillit.book import context as nbk
    from tillit.config import SHARED_KEYS, load_run_params

    values = load_run_params().model_dump()
    namespace = {k: values[k] for k in SHARED_KEYS}
    namespace["output_dir"] = "notebooks"
    with pytest.raises(ConfigError, match=r"output_dir = .*notebooks.*ligger i notebooks/"):
        nbk.start("01_sammendrag", namespace, banner=False)


def test_the_book_is_rendered_into_the_output_dir_and_data_dir_given(tmp_path, monkeypatch):
    """The renderer reads the executed notebooks, figures and tables of another output folder
    and writes the book there (the data source banner from another data_dir); nothing is
    written under the repository's outputs/."""
    import json
    import shutil
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).parent))
    from book_fixture import build_fake_root

    from tillit.book import render as book

    root = build_fake_root(tmp_path)
    elsewhere = tmp_path / "utenfor" / "ut"
    elsewhere.parent.mkdir()
    shutil.move(str(root / "outputs"), str(elsewhere))
    data = tmp_path / "utenfor" / "data"
    shutil.move(str(root / "data" / "processed"), str(data))
    (data / "data_source.json").write_text(json.dumps({"kind": "real", "files": {}}), encoding="utf-8")
    (root / "outputs").mkdir()
    monkeypatch.setenv("TILLIT_ROOT", str(root))
    result = book.render(root, renderer="fallback", output_dir=elsewhere, data_dir=data)
    assert result.status == "ok" and result.index_path == elsewhere.resolve() / "book" / "index.html"
    assert result.index_path.is_file() and all(p.is_file() and elsewhere.resolve() in p.parents for p in result.pages)
    assert len(result.pages) >= 5 and (elsewhere / "book" / "figures").is_dir()
    assert not any((root / "outputs").iterdir())
    assert not list(elsewhere.glob(".book-*"))
    index = result.index_path.read_text(encoding="utf-8")
    assert "Reelle data" in index and "Syntetiske data" not in index  # the banner follows data_dir
    again = book.render(root, renderer="fallback", output_dir=elsewhere, data_dir=data)
    assert again.status == "cached" and again.index_path == result.index_path
