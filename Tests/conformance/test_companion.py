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


# Pieces that have broken escaping: quotes, backslashes, line ends, a mark
# that joins the next character (U+0600), joiners, combining marks, list
# punctuation, statement words.
PIECES = ['"', "'", "\\", "\n", "\r", "\r\n", "\t", "\u0600", "\u0301", "\u200d", "\u2028", "\x85", "\x00", "\x1b",
          "[", "]", ",", " ", "#", "=", "%", "-", ".", "5", "x", 'print "INJECTED"', "train", "é", "名", "\\n", "{", "}"]


def loom_name(name):
    """Loom's rule, stated independently: a letter or _, then letters, _ and ASCII digits; no statement word."""
    from loom_jupyter.papermill import RESERVED
    return (bool(name) and (name[0] == "_" or name[0].isalpha())
            and all(c == "_" or c.isalpha() or c in "0123456789" for c in name) and name not in RESERVED)


def test_random_names_and_values_become_exactly_their_assignments():
    """Seeded random strings through the translator; Loom itself then reads the
    cell and prints each value back, which must be exactly the value given."""
    import random
    from loom_jupyter.papermill import LoomTranslator
    rng = random.Random(24)
    accepted = {}
    for i in range(400):
        value = "".join(rng.choice(PIECES) for _ in range(rng.randrange(8)))
        name = "".join(rng.choice(PIECES) for _ in range(rng.randrange(3))) if i % 3 == 0 else ""
        name = ("v" if i % 2 else "") + name + f"_{i}"
        try:
            cell = LoomTranslator.codify({name: value})
        except PapermillException as error:
            assert not loom_name(name) or any(c in value for c in "\r\x00\x1b\x85\u2028"), (name, value, error)
            continue
        assert loom_name(name), name
        accepted[name] = value
    assert len(accepted) > 50
    cell = LoomTranslator.codify(accepted)
    program = cell + "".join(f'print "<{i}>"\nprint {name}\n' for i, name in enumerate(accepted))
    result = subprocess.run([LOOM, "eval", "-"], input=program.encode(), capture_output=True, timeout=60)
    assert result.returncode == 0, result.stderr.decode()
    assert result.stdout.decode() == "".join(f"<{i}>\n{value}\n" for i, value in enumerate(accepted.values()))


def test_names_loom_cannot_read_are_refused():
    from loom_jupyter.papermill import RESERVED, LoomTranslator
    for name in ('x = 1\nprint "INJ"\ny', "1x", "", "a.b", "a b", "train", "dense"):
        with pytest.raises(PapermillException, match="not a Loom name|statement or layer word"):
            LoomTranslator.codify({name: 1})
    with pytest.raises(PapermillException, match="parameter `s`: .* U\\+000D at character 4"):
        LoomTranslator.codify({"s": '[1]\r\nprint "INJECTED"'})
    assert LoomTranslator.codify({"größe_2": "\u0600\""}) == '# Parameters\ngröße_2 = "\u0600\\""\n'
    # The words refused are exactly Loom's statement and layer words.
    assert RESERVED == statement_and_layer_words()
