"""What the README tells a new user to type works as written."""

import re
import shlex
import subprocess
import sys
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text()
BIN = Path(sys.executable).parent


def test_jupyter_commands_name_the_virtualenv():
    """`jupyter` and `papermill` live in `.venv/bin`, which a fresh shell does not have on its PATH."""
    commands = re.findall(r"`([^`]*\b(?:jupyter lab|papermill) [^`]*)`", README)
    assert commands, "the README shows how to open JupyterLab and run papermill"
    for command in commands:
        if command.startswith(("jupyter", "papermill")):
            raise AssertionError(f"`{command}` needs `.venv/bin/`")


def test_the_papermill_example_runs_from_the_checkout(tmp_path):
    """The example reads the tutorial's data files: it needs `--cwd notebooks`."""
    match = re.search(r"`\.venv/bin/papermill\s+([^`]*)`", README)
    assert match, "the README gives a papermill example"
    words = shlex.split(match.group(1))
    assert "--cwd" in words
    out = tmp_path / "out.ipynb"
    words = [str(out) if w == "out.ipynb" else w for w in words]
    result = subprocess.run([str(BIN / "papermill"), *words, "-k", "loom", "--no-progress-bar"], cwd=ROOT,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    sources = [c.source for c in nbformat.read(str(out), as_version=4).cells]
    assert any("epochs = 3" in s for s in sources), "papermill injected the parameter"


def test_jupyter_checkpoints_are_ignored():
    """JupyterLab writes `.ipynb_checkpoints/` beside every notebook it opens."""
    result = subprocess.run(["git", "check-ignore", "-q", "notebooks/.ipynb_checkpoints/00-loom-basics-checkpoint.ipynb"],
                            cwd=ROOT)
    assert result.returncode == 0


def test_the_readme_says_what_make_test_runs_and_fetches():
    assert "fuzz" in README.split("## Use it in Jupyter")[0]
    assert "swift-argument-parser" in README
