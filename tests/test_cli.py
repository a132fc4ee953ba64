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
