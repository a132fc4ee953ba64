"""The notebooks' contract: a parameters cell matching params/default.yml, the start call,
no stored outputs, thin cells."""
import ast
import json
import re
from pathlib import Path

import pytest
import yaml

from tillit.config import SHARED_KEYS, load_pipeline, repo_root

ROOT = repo_root()
NAMES = load_pipeline().names()


def _nb(name):
    return json.loads((ROOT / "notebooks" / f"{name}.ipynb").read_text(encoding="utf-8"))


@pytest.mark.parametrize("name", NAMES)
def test_parameters_cell_declares_exactly_the_shared_defaults(name):
    cells = [c for c in _nb(name)["cells"] if c["cell_type"] == "code"]
    params = [c for c in cells if "parameters" in c.get("metadata", {}).get("tags", [])]
    assert len(params) == 1, f"{name}: én celle må være merket 'parameters'"
    assert cells[0] is params[0], f"{name}: parameters-cellen må være første kodecelle"
    tree = ast.parse("".join(params[0]["source"]))
    declared = {}
    for node in tree.body:
        assert isinstance(node, ast.Assign), f"{name}: parameters-cellen skal bare ha tilordninger"
        declared[node.targets[0].id] = ast.literal_eval(node.value)
    defaults = yaml.safe_load((ROOT / "params" / "default.yml").read_text(encoding="utf-8"))
    shared = {k: v for k, v in declared.items() if k in SHARED_KEYS}
    assert shared == defaults, f"{name}: parameters-cellen avviker fra params/default.yml"


@pytest.mark.parametrize("name", NAMES)
def test_notebook_starts_its_own_context_and_has_no_outputs(name):
    nb = _nb(name)
    code = [c for c in nb["cells"] if c["cell_type"] == "code"]
    assert f'nbk.start("{name}"' in "".join(code[1]["source"])
    for cell in code:
        assert not cell.get("outputs"), f"{name}: notatbøker lagres uten utdata"
        assert cell.get("execution_count") is None
        lines = "".join(cell["source"]).splitlines()
        assert len(lines) <= 40, f"{name}: en celle på {len(lines)} linjer hører hjemme i pakken"


def test_book_chapters_are_titled_by_their_first_heading():
    """The first cell is `# <title>` (no typed number), optionally with an id and class
    (`{#app-data .appendix}` for a lettered appendix); the title is the pipeline's."""
    spec = load_pipeline()
    for entry in spec.notebooks:
        first = _nb(entry.name)["cells"][0]
        assert first["cell_type"] == "markdown"
        m = re.fullmatch(r"# (.+?)(?:\s+\{[^{}]*\})?", "".join(first["source"]).strip())
        assert m, f"{entry.name}: første celle skal være '# <tittel>'"
        assert m.group(1) == entry.title, f"{entry.name}: tittelen «{m.group(1)}» er ikke «{entry.title}»"
        assert not re.match(r"\d", m.group(1)), f"{entry.name}: kapittelnummeret skrives ikke inn"


@pytest.mark.parametrize("name", NAMES)
def test_setup_cell_follows_the_parameters_and_is_tagged(name):
    code = [c for c in _nb(name)["cells"] if c["cell_type"] == "code"]
    assert "setup" in code[1].get("metadata", {}).get("tags", []), f"{name}: andre kodecelle skal være merket 'setup'"


def _strings(code: str) -> str:
    """The string literals of a code cell (what ctx.prose can show), without its comments."""
    import io
    import tokenize

    kinds = {tokenize.STRING} | ({tokenize.FSTRING_MIDDLE} if hasattr(tokenize, "FSTRING_MIDDLE") else set())
    try:
        return "\n".join(t.string for t in tokenize.generate_tokens(io.StringIO(code).readline) if t.type in kinds)
    except (tokenize.TokenError, SyntaxError):
        return code


@pytest.mark.parametrize("name", NAMES)
def test_reader_text_holds_no_developer_material(name):
    """Text a reader sees (Markdown cells and the prose code cells write) names no folders,
    files or tools of the compendium; the parameters cell is for researchers and is left out."""
    cells = [c for c in _nb(name)["cells"] if "parameters" not in c.get("metadata", {}).get("tags", [])]
    text = "\n".join("".join(c["source"]) if c["cell_type"] == "markdown" else _strings("".join(c["source"]))
                     for c in cells)
    found = re.findall(r"data/(?:raw|processed)|params/\w+\.yml|outputs/|SHA-256|nbconvert|papermill", text)
    assert not found, f"{name}: utviklerstoff i lesertekst: {sorted(set(found))}"
