"""`jupyter console` starts the Loom kernel from its kernelspec and talks to it."""

import subprocess
import sys
from pathlib import Path


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
