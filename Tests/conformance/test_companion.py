"""Loom's Python companion (`python/`): papermill's parameters become Loom
assignments, and Pygments highlights Loom in nbconvert's HTML."""

import re
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from papermill.exceptions import PapermillException
from pygments.lexers import get_lexer_by_name
from pygments.token import Error, Keyword

from conftest import LOOM, ROOT

BIN = Path(sys.executable).parent


def parameterised_notebook(path):
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "loom", "display_name": "Loom", "language": "loom"}
    params = nbformat.v4.new_code_cell('epochs = 1\nname = "default"  # the run\nrates = [0.5]')
    params.metadata["tags"] = ["parameters"]
    nb.cells = [params, nbformat.v4.new_code_cell('print "epochs" epochs "name" name\nfor r in rates {\n  print "rate" r\n}')]
    nbformat.write(nb, str(path))
    return path


def test_papermill_injects_loom_parameters(tmp_path):
    source = parameterised_notebook(tmp_path / "in.ipynb")
    out = tmp_path / "out.ipynb"
    result = subprocess.run([str(BIN / "papermill"), str(source), str(out), "-k", "loom", "--no-progress-bar",
                             "-p", "epochs", "3", "-p", "name", 'say "hi"\\now', "-y", "rates: [0.1, 0.25]"],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    ran = nbformat.read(str(out), as_version=4)
    injected = next(c for c in ran.cells if "injected-parameters" in c.metadata.get("tags", []))
    assert injected.source == '# Parameters\nrates = [0.1, 0.25]\nepochs = 3\nname = "say \\"hi\\"\\\\now"\n'
    printed = "".join(o.get("text", "") for c in ran.cells for o in c.get("outputs", []))
    assert printed == 'epochs 3 name say "hi"\\now\nrate 0.1\nrate 0.25\n'


def test_papermill_describes_a_loom_notebooks_parameters(tmp_path):
    source = parameterised_notebook(tmp_path / "in.ipynb")
    result = subprocess.run([str(BIN / "papermill"), "--help-notebook", str(source)], capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 0, result.stderr
    assert re.search(r"epochs: float \(default 1\)", result.stdout), result.stdout
    assert re.search(r'name: str \(default "default"\)\s+the run', result.stdout), result.stdout
    assert re.search(r"rates: list", result.stdout), result.stdout


def test_values_loom_cannot_hold_are_refused():
    from loom_jupyter.papermill import LoomTranslator
    assert LoomTranslator.translate(True) == "1"
    assert LoomTranslator.translate([1, "a", [2.5]]) == '[1, "a", [2.5]]'
    for bad in (None, {"a": 1}, float("nan")):
        with pytest.raises(PapermillException):
            LoomTranslator.translate(bad)


def statement_and_layer_words():
    reference = subprocess.run([LOOM, "reference"], capture_output=True, text=True, check=True).stdout
    return {heading.split()[0] for heading in re.findall(r"^#### `([^`]+)`", reference, re.M)}


def test_the_lexer_knows_every_statement_and_layer():
    lexer = get_lexer_by_name("loom")
    for word in sorted(statement_and_layer_words()):
        tokens = [t for t, v in lexer.get_tokens(word) if v.strip()]
        assert tokens and tokens[0] in Keyword, f"`{word}` is not highlighted as a keyword: {tokens}"


def test_the_tutorials_lex_without_errors():
    lexer = get_lexer_by_name("loom")
    for path in sorted((ROOT / "notebooks").glob("*.ipynb")):
        for cell in nbformat.read(str(path), as_version=4).cells:
            if cell.cell_type == "code":
                errors = [v for t, v in lexer.get_tokens(cell.source) if t is Error]
                assert not errors, f"{path.name}: {errors}"


def test_nbconvert_html_highlights_loom(tmp_path):
    tutorial = ROOT / "notebooks" / "00-loom-basics.ipynb"
    assert nbformat.read(str(tutorial), as_version=4).metadata["language_info"]["pygments_lexer"] == "loom"
    result = subprocess.run([str(BIN / "jupyter"), "nbconvert", "--to", "html", "--output-dir", str(tmp_path), str(tutorial)],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    html = (tmp_path / "00-loom-basics.html").read_text()
    assert '<span class="k">print</span>' in html
    assert '<span class="c1">#' in html or '<span class="s2">' in html
