"""`jupyter console` starts the Loom kernel from its kernelspec and talks to it."""

import re
import subprocess
import sys
from pathlib import Path

from conftest import LOOM


def test_jupyter_console_runs_cells():
    jupyter = Path(sys.executable).parent / "jupyter"
    result = subprocess.run([str(jupyter), "console", "--kernel", "loom", "--simple-prompt"],
                            input='6 * 7\nprint "hi"\ntrian x\n', stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True, timeout=120)
    out = result.stdout
    assert "Loom 0.1.0" in out, out  # the banner
    assert "Out[1]: 42" in out, out
    assert "In [2]: hi" in out, out
    assert "did you mean `train`?" in out, out  # errors go to the console's stderr
    assert "listening" not in out, out  # the kernel's start-up line stays out of the console (`--debug` logs it)


def test_exit_quits_jupyter_console():
    """`exit` sends ipykernel's `ask_exit` payload: the console quits, and what follows never runs."""
    jupyter = Path(sys.executable).parent / "jupyter"
    result = subprocess.run([str(jupyter), "console", "--kernel", "loom", "--simple-prompt"],
                            input='6 * 7\nexit\n7 * 8\n', stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True, timeout=120)
    assert result.returncode == 0, result.stdout
    assert "Out[1]: 42" in result.stdout, result.stdout
    assert "56" not in result.stdout, result.stdout


def test_figures_show_as_text_in_jupyter_console():
    """Displays carry SVG beside the text (`set plots auto`); the console shows the text."""
    jupyter = Path(sys.executable).parent / "jupyter"
    result = subprocess.run([str(jupyter), "console", "--kernel", "loom", "--simple-prompt"],
                            input="data p = patches n 50\n", stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, timeout=120)
    assert "image(s) of 8×8" in result.stdout, result.stdout
    assert "<svg" not in result.stdout, result.stdout


def test_training_progress_moves_in_jupyter_console(tmp_path):
    """The console prints a display once and drops its updates: progress comes as lines, with no setting."""
    saved = tmp_path / "m.safetensors"
    # The console reads a line per cell: the model is defined beforehand and loaded.
    model = f'model m {{\n  input 8x8x1\n  flatten\n  dense 10 softmax\n}}\nsave m "{saved}"\n'
    subprocess.run([LOOM, "eval", "-"], input=model, text=True, check=True,
                   capture_output=True)
    jupyter = Path(sys.executable).parent / "jupyter"
    cells = (f'seed 1\ndata g = glyphs n 200 size 8\nload m "{saved}"\ntrain m on g epochs 3 batch 8\n'
             "set progress stream\nquiet { train m on g epochs 2 batch 8 }\n")
    result = subprocess.run([str(jupyter), "console", "--kernel", "loom", "--simple-prompt"],
                            input=cells, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=120)
    out = result.stdout
    assert "epoch 3/3" in out and "25/25" in out, out  # the run's end, not a frozen first line
    assert not re.search(r"(?<![\d,])0/25", out), out  # no line before the first batch
    assert "training" in out, out  # the history table
    assert "Error" not in out, out
    assert "epoch 5/5" not in out, out  # `quiet { … }` shows no progress lines either
