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
