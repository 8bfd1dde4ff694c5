"""The tutorial notebooks: each is committed with its outputs, and executing
it again — with `loom run`, and through the kernel with nbclient, nbconvert
and papermill — gives the same outputs (timings masked)."""

import re
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from conftest import LOOM, ROOT

TUTORIALS = sorted((ROOT / "notebooks").glob("*.ipynb"))
BIN = Path(sys.executable).parent

TIMING = [
    (re.compile(r"\b\d+:\d\d(:\d\d)?\b"), "<clock>"),
    (re.compile(r"\b\d+(\.\d+)?\s?[a-z]+/s\b"), "<rate>"),
    # A step that takes 900 ms on one run may take 1.1 s on a busy machine.
    (re.compile(r"\b\d+(\.\d+)? (s|ms|µs)\b"), "<duration>"),
]


def mask(value):
    if isinstance(value, str):
        for pattern, replacement in TIMING:
            value = pattern.sub(replacement, value)
        # Column widths follow the widest timing: fold runs of padding and rules.
        return re.sub(r"─+", "─", re.sub(r" +", " ", value))
    if isinstance(value, list):
        return [mask(v) for v in value]
    if isinstance(value, dict):
        return {k: mask(v) for k, v in value.items()}
    return value


def outputs(nb):
    return [mask(c.get("outputs")) for c in nb.cells if c.cell_type == "code"]


def committed(path):
    return nbformat.read(str(path), as_version=4)


def test_there_are_tutorials():
    assert [p.name for p in TUTORIALS][:1] == ["00-loom-basics.ipynb"]


@pytest.mark.parametrize("path", TUTORIALS, ids=lambda p: p.name)
def test_tutorial_is_committed_with_its_outputs(path):
    nb = committed(path)
    nbformat.validate(nb)
    assert all(c.get("execution_count") for c in nb.cells if c.cell_type == "code"), "run `make tutorials`"


@pytest.mark.parametrize("path", TUTORIALS, ids=lambda p: p.name)
def test_loom_run_reproduces_the_committed_outputs(path, tmp_path):
    out = tmp_path / path.name
    result = subprocess.run([LOOM, "run", str(path), "-o", str(out), "-q"], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert outputs(nbformat.read(str(out), as_version=4)) == outputs(committed(path))


@pytest.mark.parametrize("path", TUTORIALS, ids=lambda p: p.name)
def test_nbclient_through_the_kernel_reproduces_the_committed_outputs(path):
    nb = committed(path)
    # As Jupyter does, the kernel starts in the notebook's folder (data/… paths).
    NotebookClient(nb, kernel_name="loom", timeout=120, resources={"metadata": {"path": str(path.parent)}}).execute()
    assert outputs(nb) == outputs(committed(path))


@pytest.mark.parametrize("path", TUTORIALS, ids=lambda p: p.name)
def test_nbconvert_execute_runs_the_tutorial(path, tmp_path):
    result = subprocess.run([str(BIN / "jupyter"), "nbconvert", "--to", "notebook", "--execute",
                             "--ExecutePreprocessor.kernel_name=loom", "--output-dir", str(tmp_path), str(path)],
                            capture_output=True, text=True, timeout=180)
    assert result.returncode == 0, result.stderr
    assert outputs(nbformat.read(str(tmp_path / path.name), as_version=4)) == outputs(committed(path))


@pytest.mark.parametrize("path", TUTORIALS, ids=lambda p: p.name)
def test_papermill_runs_the_tutorial(path, tmp_path):
    out = tmp_path / path.name
    result = subprocess.run([str(BIN / "papermill"), str(path), str(out), "-k", "loom", "--no-progress-bar",
                             "--cwd", str(path.parent)],
                            capture_output=True, text=True, timeout=180)
    assert result.returncode == 0, result.stderr
    ran = nbformat.read(str(out), as_version=4)
    assert outputs(ran) == outputs(committed(path))


@pytest.mark.parametrize("path", TUTORIALS, ids=lambda p: p.name)
def test_nbconvert_script_gives_loom_code_that_loom_eval_runs(path, tmp_path):
    result = subprocess.run([str(BIN / "jupyter"), "nbconvert", "--to", "script", "--output-dir", str(tmp_path),
                             "--TagRemovePreprocessor.enabled=True",
                             "--TagRemovePreprocessor.remove_cell_tags=raises-exception", str(path)],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    script = tmp_path / (path.stem + ".loom")
    assert script.exists()
    ran = subprocess.run([LOOM, "eval", str(script)], capture_output=True, text=True, timeout=120, cwd=path.parent)
    assert ran.returncode == 0, ran.stderr
