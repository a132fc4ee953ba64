from pathlib import Path

import pytest

from tillit.data import codebook
from tillit import config


def test_repo_root_found_from_notebooks_dir(monkeypatch):
    root = config.repo_root()
    monkeypatch.delenv(config.ROOT_ENV, raising=False)
    monkeypatch.chdir(root / "notebooks")
    assert config.repo_root() == root


def test_default_params_load_and_resolve_paths():
    params = config.load_run_params()
    assert params.min_cell == 5
    assert params.path("data_dir").is_absolute()
    assert params.path("data_dir").parts[-2:] == ("data", "processed")


def test_strict_mode_raises_min_cell_to_ten():
    assert config.RunParams(min_cell=5, strict_disclosure=True).effective_min_cell == 10
    assert config.RunParams(min_cell=12, strict_disclosure=True).effective_min_cell == 12


def test_pipeline_lists_existing_notebooks_in_order():
    spec = config.load_pipeline()
    names = spec.names()
    assert names[0] == "00_klargjoring" and names[-1] == "06_vedlegg"
    # One notebook per chapter of the report (01–06) after the data preparation, which the book
    # shows as its first lettered appendix (its heading is {#app-data .appendix}).
    assert names[1:] == ["01_sammendrag", "02_innledning", "03_kunnskapsgrunnlag", "04_hovedfunn",
                         "05_videre_arbeid", "06_vedlegg"]
    assert spec.spec("00_klargjoring").book


def test_overrides_for_unknown_notebook_refused(tmp_path):
    root = config.repo_root()
    text = (root / "params" / "pipeline.yml").read_text(encoding="utf-8")
    bad = tmp_path / "pipeline.yml"
    bad.write_text(text.replace("overrides: {}", "overrides: {99_finnes_ikke: {min_cell: 3}}"), encoding="utf-8")
    with pytest.raises(config.ConfigError, match="99_finnes_ikke"):
        config.load_pipeline(bad, root=root)


def test_codebook_defines_13_factors_and_every_scale_used():
    cb = codebook.load_codebook()
    assert len(cb.factors) == 13
    for var in cb.items.values():
        assert var.scale in cb.scales
    assert cb.unit_alias_map()[codebook.norm_key("nav  kontaktsenter")] == "nks"
    assert cb.role_aliases[codebook.norm_key("Tillitsvald")] == "tillitsvalgt"
