"""Files Loom writes, killed with SIGKILL mid-write and aimed at hostile
targets: a checkpoint and a notebook with a second hard link are always
whole (the new bytes go to a temporary renamed over the file, so the file
gets a new inode and the other link keeps the previous bytes); read-only
files and symlink loops are refused; a killed write's temporary goes at the
next write."""

import json
import os
import signal
import struct
import subprocess
import time

import nbformat

from conftest import LOOM

MODEL = """seed 1
data g = glyphs n 40 size 12
model m {
  input 12x12x1
  flatten
  dense 4000 relu
  dense 10 softmax
}
"""


def loom_eval(source, cwd, timeout=60):
    return subprocess.run([LOOM, "eval", "-"], input=source, capture_output=True, text=True, cwd=cwd, timeout=timeout)


def whole_safetensors(data):
    """True when `data` is a complete safetensors file: its header, then exactly the bytes the header accounts for."""
    if len(data) < 8:
        return False
    size = struct.unpack("<Q", data[:8])[0]
    try:
        header = json.loads(data[8:8 + size])
    except ValueError:
        return False
    ends = [entry["data_offsets"][1] for name, entry in header.items() if name != "__metadata__"]
    return bool(ends) and 8 + size + max(ends) == len(data)


def temporaries(folder):
    return sorted(p.name for p in folder.iterdir() if ".loom-tmp-" in p.name)


def test_a_killed_checkpoint_leaves_a_whole_file_and_its_other_link_untouched(tmp_path):
    assert loom_eval(MODEL + 'save m "ck.safetensors"', tmp_path).returncode == 0
    checkpoint, other = tmp_path / "ck.safetensors", tmp_path / "kept.safetensors"
    os.link(checkpoint, other)
    original = other.read_bytes()
    assert whole_safetensors(original)
    program = MODEL + 'train m on g epochs 100000 batch 40 checkpoint "ck.safetensors"\n'
    for delay in (0.4, 0.7, 1.0):
        process = subprocess.Popen([LOOM, "eval", "-"], stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                                   stderr=subprocess.DEVNULL, cwd=tmp_path)
        process.stdin.write(program.encode())
        process.stdin.close()
        time.sleep(delay)
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=10)
        assert whole_safetensors(checkpoint.read_bytes()), f"checkpoint cut short by a kill after {delay} s"
        assert other.read_bytes() == original, "the other link keeps the checkpoint it had"
    assert checkpoint.read_bytes() != original, "the checkpoints were written"
    assert checkpoint.stat().st_ino != other.stat().st_ino
    # A temporary left by a killed write is removed by the next write in its folder.
    assert loom_eval(MODEL + 'save m "other.safetensors"', tmp_path).returncode == 0
    assert temporaries(tmp_path) == []


def big_notebook(path):
    """A notebook whose write takes a while (20 MB of Markdown) and whose one cell is quick."""
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell("x" * 20_000_000), nbformat.v4.new_code_cell("6 * 7")]
    nbformat.write(nb, str(path))
    return path


def test_a_killed_inplace_run_leaves_valid_json_and_the_other_link_untouched(tmp_path):
    notebook, other = big_notebook(tmp_path / "nb.ipynb"), tmp_path / "linked.ipynb"
    os.link(notebook, other)
    original = other.read_bytes()
    started = time.time()
    assert subprocess.run([LOOM, "run", str(notebook), "--inplace", "-q"], timeout=60).returncode == 0
    duration = time.time() - started
    assert nbformat.read(str(notebook), as_version=4).cells[1].outputs[0].data["text/plain"] == "42"
    assert other.read_bytes() == original, "the other link keeps the notebook it had"
    os.unlink(notebook)
    os.link(other, notebook)
    # Kills spread over the run's second half, where the notebook is written.
    for fraction in (0.5, 0.6, 0.7, 0.75, 0.8, 0.85, 0.9, 0.95, 0.98):
        process = subprocess.Popen([LOOM, "run", str(notebook), "--inplace", "-q"])
        time.sleep(duration * fraction)
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=10)
        json.loads(notebook.read_bytes())  # valid JSON, old or new
        assert other.read_bytes() == original
        os.unlink(notebook)
        os.link(other, notebook)


def test_read_only_files_are_refused_and_kept(tmp_path):
    notebook = tmp_path / "nb.ipynb"
    nbformat.write(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("1")]), str(notebook))
    notebook.chmod(0o444)
    before = notebook.read_bytes()
    result = subprocess.run([LOOM, "run", str(notebook), "--inplace", "-q"], capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert "read-only (mode 444)" in result.stderr
    assert notebook.read_bytes() == before
    saved = tmp_path / "m.safetensors"
    saved.write_bytes(b"keep")
    saved.chmod(0o444)
    result = loom_eval(MODEL + 'save m "m.safetensors"', tmp_path)
    assert result.returncode == 1
    assert "read-only (mode 444)" in result.stderr
    assert saved.read_bytes() == b"keep"
    assert temporaries(tmp_path) == []


def test_a_symlink_loop_is_refused_and_stays_a_loop(tmp_path):
    source = tmp_path / "nb.ipynb"
    nbformat.write(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("1")]), str(source))
    os.symlink("b.ipynb", tmp_path / "a.ipynb")
    os.symlink("a.ipynb", tmp_path / "b.ipynb")
    result = subprocess.run([LOOM, "run", str(source), "-o", str(tmp_path / "a.ipynb"), "-q"], capture_output=True,
                            text=True, timeout=60)
    assert result.returncode == 2
    assert "loop of symbolic links" in result.stderr
    assert os.path.islink(tmp_path / "a.ipynb") and os.readlink(tmp_path / "a.ipynb") == "b.ipynb"
