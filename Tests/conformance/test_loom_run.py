"""`loom run`: headless execution in process, checked against what nbclient
records from the real kernel, and for the promises it makes about files."""

import json
import shutil
import signal
import subprocess
import time
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from conftest import LOOM

SAMPLE = Path(__file__).parent / "notebooks" / "sample.ipynb"


def loom_run(*args, timeout=60):
    return subprocess.run([LOOM, "run", *map(str, args)], capture_output=True, text=True, timeout=timeout)


def outputs(nb):
    return [c.get("outputs") for c in nb.cells if c.cell_type == "code"]


def write_notebook(path, sources):
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(s) for s in sources]
    nbformat.write(nb, str(path))
    return path


def test_outputs_match_nbclient_through_the_kernel(tmp_path):
    out = tmp_path / "run.ipynb"
    result = loom_run(SAMPLE, "-o", out)
    assert result.returncode == 0, result.stderr
    ran = nbformat.read(str(out), as_version=4)
    nbformat.validate(ran)

    via_kernel = nbformat.read(str(SAMPLE), as_version=4)
    NotebookClient(via_kernel, kernel_name="loom", timeout=60).execute()
    assert outputs(ran) == outputs(via_kernel)
    assert [c.get("execution_count") for c in ran.cells] == [c.get("execution_count") for c in via_kernel.cells]


def test_paged_help_is_recorded_as_nbclient_records_it(tmp_path):
    source = write_notebook(tmp_path / "help.ipynb", ["?conv2d", "help train"])
    out = tmp_path / "run.ipynb"
    assert loom_run(source, "-o", out).returncode == 0
    via_kernel = nbformat.read(str(source), as_version=4)
    NotebookClient(via_kernel, kernel_name="loom", timeout=60).execute()
    ran = nbformat.read(str(out), as_version=4)
    assert outputs(ran) == outputs(via_kernel)
    assert outputs(ran)[0] == [] and len(outputs(ran)[1]) == 1


def test_everything_the_user_wrote_is_kept(tmp_path):
    out = tmp_path / "run.ipynb"
    assert loom_run(SAMPLE, "-o", out).returncode == 0
    before = json.loads(SAMPLE.read_text())
    after = json.loads(out.read_text())
    assert after["metadata"]["custom"] == before["metadata"]["custom"]
    assert after["metadata"]["kernelspec"]["name"] == "loom"
    assert after["metadata"]["language_info"]["file_extension"] == ".loom"
    for b, a in zip(before["cells"], after["cells"]):
        assert a["id"] == b["id"]
        assert a["source"] == b["source"]
        assert a["metadata"] == b["metadata"]
        if b["cell_type"] != "code":
            assert a == b
    assert after["cells"][2]["metadata"]["custom_cell"] == "kept"


def test_an_updated_display_keeps_its_final_state(tmp_path):
    out = tmp_path / "run.ipynb"
    loom_run(SAMPLE, "-o", out)
    last = nbformat.read(str(out), as_version=4).cells[-1]
    assert len(last.outputs) == 1
    assert "110/110" in last.outputs[0].data["text/plain"]


def test_clear_output_drops_what_came_before(tmp_path):
    out = tmp_path / "run.ipynb"
    loom_run(SAMPLE, "-o", out)
    cleared = nbformat.read(str(out), as_version=4).cells[5]
    assert [o.get("text") for o in cleared.outputs] == ["after the clear\n"]


def test_parameters_are_injected_after_the_parameters_cell(tmp_path):
    out = tmp_path / "run.ipynb"
    assert loom_run(SAMPLE, "-o", out, "-p", "epochs", "9", "-p", "name", "wide net").returncode == 0
    nb = nbformat.read(str(out), as_version=4)
    injected = nb.cells[2]
    assert injected.metadata.tags == ["injected-parameters"]
    assert injected.source == '# Parameters\nepochs = 9\nname = "wide net"'
    assert nb.cells[3].outputs[0].text == "epochs: 9\n"
    # A second run replaces the injected cell rather than adding another.
    again = tmp_path / "again.ipynb"
    assert loom_run(out, "-o", again, "-p", "epochs", "2").returncode == 0
    tags = [c.metadata.get("tags", []) for c in nbformat.read(str(again), as_version=4).cells]
    assert tags.count(["injected-parameters"]) == 1


def test_a_notebook_without_a_parameters_cell_is_warned_about_and_still_runs(tmp_path):
    source = write_notebook(tmp_path / "plain.ipynb", ["print \"epochs:\" epochs"])
    out = tmp_path / "run.ipynb"
    result = loom_run(source, "-o", out, "-p", "epochs", "4")
    assert result.returncode == 0, result.stderr
    assert f"warning: input notebook {source} does not contain a cell with tag 'parameters'" in result.stderr
    nb = nbformat.read(str(out), as_version=4)
    assert nb.cells[0].metadata.tags == ["injected-parameters"]
    assert nb.cells[1].outputs[0].text == "epochs: 4\n"
    # No parameters, no warning; a notebook with a parameters cell, none either.
    assert "tag 'parameters'" not in loom_run(out, "-o", tmp_path / "again.ipynb").stderr
    assert "tag 'parameters'" not in loom_run(SAMPLE, "-o", tmp_path / "sample.ipynb", "-p", "epochs", "2").stderr


def test_a_parameter_the_parameters_cell_does_not_define_is_warned_about(tmp_path):
    out = tmp_path / "run.ipynb"
    result = loom_run(SAMPLE, "-o", out, "-p", "epochs", "3", "-p", "lerning_rate", "0.1")
    assert result.returncode == 0
    assert "does not define `lerning_rate`" in result.stderr
    assert "`epochs`" not in result.stderr


def test_a_failing_cell_stops_the_run_names_the_cell_and_line(tmp_path):
    source = write_notebook(tmp_path / "bad.ipynb", ["x = 1", "y = 2\ntrian x", "print 3"])
    original = source.read_bytes()
    out = tmp_path / "out.ipynb"
    result = loom_run(source, "-o", out)
    assert result.returncode == 1
    assert "code cell 2" in result.stderr
    assert "line 2, column 1" in result.stderr
    assert source.read_bytes() == original
    nb = nbformat.read(str(out), as_version=4)
    assert nb.cells[1].outputs[0].output_type == "error"
    assert nb.cells[2].outputs == []  # never ran


def test_allow_errors_records_the_error_and_goes_on(tmp_path):
    source = write_notebook(tmp_path / "bad.ipynb", ["trian x", "print 3"])
    out = tmp_path / "out.ipynb"
    result = loom_run(source, "-o", out, "--allow-errors")
    assert result.returncode == 0
    nb = nbformat.read(str(out), as_version=4)
    assert nb.cells[0].outputs[0].ename == "SyntaxError"
    assert nb.cells[1].outputs[0].text == "3\n"


def test_inplace_rewrites_the_source(tmp_path):
    source = write_notebook(tmp_path / "nb.ipynb", ["6 * 7"])
    assert loom_run(source, "--inplace", "-q").returncode == 0
    assert nbformat.read(str(source), as_version=4).cells[0].outputs[0].data["text/plain"] == "42"


def test_a_killed_run_leaves_the_notebook_untouched(tmp_path):
    source = write_notebook(tmp_path / "slow.ipynb", ["print 1", "sleep 30"])
    original = source.read_bytes()
    process = subprocess.Popen([LOOM, "run", str(source), "--inplace"], stderr=subprocess.PIPE)
    time.sleep(0.7)
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=10)
    assert source.read_bytes() == original
    assert [p.name for p in tmp_path.iterdir()] == ["slow.ipynb"]


def test_timeout_interrupts_a_long_cell(tmp_path):
    source = write_notebook(tmp_path / "slow.ipynb", ["sleep 30", "print 1"])
    out = tmp_path / "out.ipynb"
    started = time.time()
    result = loom_run(source, "-o", out, "--timeout", "0.5")
    assert time.time() - started < 10
    assert result.returncode == 1
    assert nbformat.read(str(out), as_version=4).cells[0].outputs[-1].ename == "CellTimeoutError"


@pytest.mark.parametrize("args, message", [
    (["-o", "x.ipynb", "--inplace"], "either -o or --inplace"),
    (["-p", "epochs"], "NAME and a VALUE"),
    (["-p", "1bad", "3"], "not a Loom name"),
    (["-p", "train", "3"], "`train` is a statement or layer word"),
    (["-p", "ks", '[1]\r\nprint "INJECTED"'], "the value of `ks` holds a control character, U+000D at character 4"),
])
def test_bad_arguments_are_refused(tmp_path, args, message):
    result = loom_run(SAMPLE, *args)
    assert result.returncode != 0
    assert message in result.stderr


def test_bad_notebooks_are_refused_clearly(tmp_path):
    (tmp_path / "v3.ipynb").write_text('{"nbformat": 3, "cells": []}')
    (tmp_path / "junk.ipynb").write_text("{not json")
    for name, message in [("v3.ipynb", "nbformat 4"), ("junk.ipynb", "invalid JSON"), ("missing.ipynb", "cannot read")]:
        result = loom_run(tmp_path / name)
        assert result.returncode == 2
        assert message in result.stderr


def test_cells_run_in_the_notebooks_folder_as_in_jupyter(tmp_path):
    """A relative path in a cell means the notebook's folder, wherever `loom run` is started
    (nbclient, nbconvert and papermill start the kernel there too); -o stays relative to the caller."""
    folder = tmp_path / "work"
    folder.mkdir()
    (folder / "points.csv").write_text("1,2,0\n3,4,1\n")
    source = write_notebook(folder / "nb.ipynb", ['data d = csv "points.csv"'])
    result = subprocess.run([LOOM, "run", "work/nb.ipynb", "-o", "out.ipynb", "-q"], cwd=tmp_path,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    out = nbformat.read(str(tmp_path / "out.ipynb"), as_version=4)
    assert "2 samples of 2" in json.dumps(outputs(out))
    other = tmp_path / "elsewhere"
    other.mkdir()
    result = subprocess.run([LOOM, "run", str(source), "--cwd", str(other), "-o", str(tmp_path / "x.ipynb"), "-q"],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 1 and "points.csv" in result.stderr


def test_a_parameter_can_be_a_list_for_a_sweep(tmp_path):
    """`-p ks "[5%, 10%]"` injects a list that a `for` loop in the notebook sweeps over."""
    nb = nbformat.v4.new_notebook()
    params = nbformat.v4.new_code_cell("ks = [1, 2]")
    params.metadata["tags"] = ["parameters"]
    nb.cells = [params, nbformat.v4.new_code_cell("for k in ks {\n  print \"k\" k\n}")]
    source = tmp_path / "sweep.ipynb"
    nbformat.write(nb, str(source))
    out = tmp_path / "out.ipynb"
    result = loom_run(source, "-o", out, "-q", "-p", "ks", "[5%, 10%, 20%]")
    assert result.returncode == 0, result.stderr
    ran = nbformat.read(str(out), as_version=4)
    printed = "".join(o.get("text", "") for c in ran.cells if c.cell_type == "code" for o in c.get("outputs", []))
    assert printed == "k 5%\nk 10%\nk 20%\n"


def test_a_quote_joined_to_the_character_before_it_stays_in_the_string(tmp_path):
    """U+0600 and a quote make one grapheme; the lexer reads them as two scalars, and the quote is escaped."""
    source = write_notebook(tmp_path / "nb.ipynb", ["print s"])
    value = '\u0600"\nprint "INJECTED"\n"'
    out = tmp_path / "out.ipynb"
    result = loom_run(source, "-o", out, "-q", "-p", "s", value)
    assert result.returncode == 0, result.stderr
    printed = "".join(o.get("text", "") for c in nbformat.read(str(out), as_version=4).cells for o in c.get("outputs", []))
    assert printed == value + "\n"


def test_numbers_and_deep_nesting_in_metadata_are_written_back_as_read(tmp_path):
    # As Python's json reads them: ints of any size exactly, -0.0 with its sign,
    # 1E400 (json reads it as inf), nesting close to its recursion limit.
    deep = "[" * 900 + "]" * 900
    numbers = '{"big": 12345678901234567890123, "max64": 18446744073709551615, "huge": 1E400, "negzero": -0.0}'
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell("1 + 1")]
    nb.metadata["marker"] = "here"
    text = nbformat.writes(nb).replace('"marker": "here"', f'"n": {numbers}, "deep": {deep}')
    path = tmp_path / "numbers.ipynb"
    path.write_text(text)
    json.loads(text)  # Python reads it
    result = loom_run(path, "--inplace", "-q")
    assert result.returncode == 0, result.stderr
    written = path.read_text()
    for literal in ("12345678901234567890123", "18446744073709551615", "1E400", "-0.0"):
        assert literal in written, literal
    assert json.loads(written)["metadata"]["n"]["big"] == 12345678901234567890123
    assert json.loads(written)["cells"][0]["outputs"][0]["data"]["text/plain"] in ("2", ["2"])
