"""Loom on two MPI ranks against one process, one thread each, on this machine:

- data-parallel training: the reference CNN (Keras's MNIST example) on the
  committed MNIST subset (4,000 training digits), an epoch at batch 32 and
  at the example's 128, each batch split across the ranks and combined bit
  for bit as one process computes it (docs/mpi.md);
- a parallel sweep: four learning rates of a small MLP on the same digits,
  `for … parallel` (each iteration on a rank of its own) against the loop in
  one process.

Both run as notebooks through `loom run` (under `mpirun -np 2 --bind-to none`
for the ranks), the timed parts inside `time { … }` (wall clock, printed by
rank 0); an epoch is the median of three. Loom runs as a user's machine runs
it (this machine's OpenBLAS pins unset). Run with `make bench`; needs Open
MPI's mpirun (Debian: openmpi-bin)."""

import json
import os
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

import machine

ROOT = Path(__file__).resolve().parents[1]
LOOM = os.environ.get("LOOM_BIN") or str(ROOT / ".build" / "release" / "loom")
MNIST = ROOT / "notebooks" / "data" / "mnist"
EPOCHS = 3
RATES = ["0.0005", "0.001", "0.002", "0.004"]

SETUP = f"""set progress off
set threads 1
seed 1
data digits = mnist n 4000 path "{MNIST}"
"""
CNN = """model cnn {
  input 28x28x1
  conv2d 32 3x3 relu
  maxpool 2
  conv2d 64 3x3 relu
  maxpool 2
  flatten
  dense 128 relu
  dense 10 softmax
}
"""


def epochs(batch):
    """Three epochs of the CNN at `batch`, each timed."""
    return "".join(f"time {{\n  train cnn on digits.train epochs 1 batch {batch}\n}}\n" for _ in range(EPOCHS))


SWEEP = """time {
  for rate in %s parallel {
    model mlp {
      input 28x28x1
      flatten
      dense 300 relu
      dense 100 relu
      dense 10 softmax
    }
    train mlp on digits.train epochs 4 batch 32 lr rate
    r = evaluate mlp on digits.test
    record runs lr=rate acc=r.accuracy
  }
}
runs
""" % " ".join(RATES)


def notebook(path, cells):
    book = {"cells": [{"cell_type": "code", "execution_count": None, "id": f"c{i}", "metadata": {}, "outputs": [],
                       "source": source} for i, source in enumerate(cells)],
            "metadata": {"kernelspec": {"name": "loom", "display_name": "Loom", "language": "loom"}},
            "nbformat": 4, "nbformat_minor": 5}
    path.write_text(json.dumps(book))


def wall_times(out):
    """Every `time: … (wall clock)` the executed notebook shows, in ms, and its text."""
    text = "".join("".join(o.get("text", "")) + "".join(o.get("data", {}).get("text/plain", ""))
                   for cell in json.loads(out.read_text())["cells"] for o in cell.get("outputs", []))
    return [float(v.replace(",", "")) * {"µs": 0.001, "ms": 1, "s": 1000}[u]
            for v, u in re.findall(r"time: ([\d.,]+) (µs|ms|s) \(wall clock\)", text)], text


def run(folder, cells, ranks):
    folder.mkdir(parents=True)
    notebook(folder / "nb.ipynb", cells)
    command = [LOOM, "run", str(folder / "nb.ipynb"), "-o", str(folder / "out.ipynb"), "-q"]
    if ranks > 1:
        root = ["--allow-run-as-root"] if os.geteuid() == 0 else []
        command = [shutil.which("mpirun"), *root, "--oversubscribe", "--bind-to", "none", "-np", str(ranks)] + command
    result = subprocess.run(command, capture_output=True, text=True, env=machine.USER_ENV, timeout=1800)
    assert result.returncode == 0, result.stderr + result.stdout
    return wall_times(folder / "out.ipynb")


def main():
    assert shutil.which("mpirun"), "Open MPI's mpirun is not installed (Debian: apt-get install openmpi-bin)"
    print(f"{machine.describe(LOOM, machine.USER_ENV)}; one thread a rank")
    rows = []
    with tempfile.TemporaryDirectory() as folder:
        for what, cells in (("epoch 32", [SETUP, CNN + epochs(32)]), ("epoch 128", [SETUP, CNN + epochs(128)]),
                            ("sweep", [SETUP, SWEEP])):
            one, _ = run(Path(folder) / what.replace(" ", "-") / "1", cells, 1)
            two, _ = run(Path(folder) / what.replace(" ", "-") / "2", cells, 2)
            if what != "sweep":
                one, two = sorted(one)[len(one) // 2], sorted(two)[len(two) // 2]
            else:
                one, two = one[0], two[0]
            rows.append((what, one, two))
    labels = {"epoch 32": "reference CNN, one epoch of 4,000 digits, batch 32",
              "epoch 128": "reference CNN, one epoch of 4,000 digits, batch 128",
              "sweep": f"sweep of {len(RATES)} learning rates, MLP 784-300-100-10, 4 epochs each"}
    print(f"{'what':<62} {'1 process':>11} {'2 ranks':>11} {'speed-up':>9}")
    for what, one, two in rows:
        print(f"{labels[what]:<62} {one / 1000:>9.2f} s {two / 1000:>9.2f} s {one / two:>8.2f}x")
    print("speed-up: one process's wall time over two ranks'; the ideal on two cores is 2.")


if __name__ == "__main__":
    main()
