"""What pruning buys at inference, side by side: a wide MLP (784-2048-2048-10)
on 2,000 samples, one core, dense and pruned to 50-99% zeros, in Loom (which
switches to its sparse kernel from 80% zeros) and in PyTorch (dense
`nn.Linear`, and `torch.sparse` CSR weights for the pruned ones). Then training
per epoch: dense, with k-winners, and with `sparse` layers at 80-95% zeros,
which train through the sparse kernels (the ratio to the dense epoch). Last,
one 1024→1024 dense layer over a batch of 256: dense, and pruned 2:4 (which
infers through the packed kernel), with their ratio in CPU time. And the
reference CNN's training per epoch with its `conv2d 64 3x3` dense and at 80-95%
zeros (through the sparse kernels from 75%).

Loom runs as a user's machine runs it (this machine's OpenBLAS pins unset for
its commands); its times are differences of whole runs (with 11 and with 1
evaluations, or 12 and 2 epochs), so start-up and data loading cancel out.
Times are CPU time on both sides (each process's own, on one thread), so other
work on a shared machine counts only through the caches it shares.
Run with `make bench`; `python sparse_bench.py conv` runs the CNN's row alone."""

import os
import resource
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

import machine

ROOT = Path(__file__).resolve().parents[1]
LOOM = os.environ.get("LOOM_BIN") or str(ROOT / ".build" / "release" / "loom")
BENCH_PY = os.environ.get("BENCH_PY") or str(ROOT / ".venv-bench" / "bin" / "python")
USER_ENV = {k: v for k, v in os.environ.items() if k not in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")}
SAMPLES = 2000
SPARSITIES = [0, 50, 80, 90, 95, 99]

MODEL = """set threads 1
data d = npy "{x}" labels "{y}"
model m {{
  input 784
  dense 2048 relu{extra}
  dense 2048 relu{extra}
  dense 10 softmax
}}
{prune}
"""

PACKED_SAMPLES = 256
PACKED_MODEL = """set threads 1
data d = npy "{x}" labels "{y}"
model m {{
  input 1024
  dense 1024 relu
  dense 2 softmax
}}
{prune}
"""

CNN_SAMPLES = 2000
CNN_MODEL = """set threads 1
seed 1
data d = glyphs n {n} size 28
model cnn {{
  input 28x28x1
  conv2d 32 3x3 relu
  maxpool 2
  conv2d 64 3x3 relu{extra}
  maxpool 2
  flatten
  dense 128 relu
  dense 10 softmax
}}
"""

TORCH_CODE = """
import time, numpy as np, torch, torch.nn as nn
torch.set_num_threads(1); torch.manual_seed(1)
x = torch.from_numpy(np.load("{x}"))
net = nn.Sequential(nn.Linear(784, 2048), nn.ReLU(), nn.Linear(2048, 2048), nn.ReLU(), nn.Linear(2048, 10), nn.Softmax(1))
def timed(f):
    f(); runs = []
    for _ in range(7):
        t = time.process_time(); f(); runs.append(time.process_time() - t)
    return sorted(runs)[3]
with torch.no_grad():
    for p in {sparsities}:
        layers = [m for m in net if isinstance(m, nn.Linear)]
        for l in layers:  # magnitude pruning, per layer
            w = l.weight
            if p: w[w.abs() <= w.abs().flatten().kthvalue(max(1, int(p / 100 * w.numel()))).values] = 0
        dense = timed(lambda: net(x))
        sparse = None
        if p:
            csr = [l.weight.to_sparse_csr() for l in layers]
            def forward():
                h = x
                for i, (l, w) in enumerate(zip(layers, csr)):
                    h = torch.sparse.mm(w, h.t()).t() + l.bias
                    h = torch.relu(h) if i < 2 else torch.softmax(h, 1)
                return h
            sparse = timed(forward)
        print(p, dense, sparse if sparse is not None else "")
"""


def run_loom(code):
    """The CPU seconds (user and system) of a Loom run."""
    def used():
        usage = resource.getrusage(resource.RUSAGE_CHILDREN)
        return usage.ru_utime + usage.ru_stime
    start = used()
    subprocess.run(["taskset", "-c", "0", LOOM, "eval", "-"], input=code, capture_output=True, text=True, check=True,
                   env=USER_ENV)
    return used() - start


def loom_seconds(program, repeat, few, many):
    """The time of one repetition: (runs with `many` − with `few`) ÷ the difference, the fastest of three each."""
    low = min(run_loom(program + repeat * few) for _ in range(3))
    high = min(run_loom(program + repeat * many) for _ in range(3))
    return (high - low) / (many - few)


def random_samples(folder):
    """SAMPLES random inputs of 784 values in [0, 1) and labels, saved in `folder` as x.npy and y.npy (their paths)."""
    rng = np.random.default_rng(1)
    x, y = f"{folder}/x.npy", f"{folder}/y.npy"
    np.save(x, rng.uniform(0, 1, (SAMPLES, 784)).astype(np.float32))
    np.save(y, rng.integers(0, 10, SAMPLES).astype(np.int64))
    return x, y


def main():
    kernel = machine.describe(LOOM, USER_ENV)
    with tempfile.TemporaryDirectory() as folder:
        x, y = random_samples(folder)
        torch = {}
        out = subprocess.run(["taskset", "-c", "0", BENCH_PY, "-c", TORCH_CODE.format(x=x, sparsities=SPARSITIES)],
                             capture_output=True, text=True, check=True).stdout
        for line in out.strip().splitlines():
            p, dense, *sparse = line.split()
            torch[int(p)] = (float(dense), float(sparse[0]) if sparse else None)
        print(f"{kernel}; inference of 784-2048-2048-10 on {SAMPLES} samples, one core, CPU ms")
        print(f"{'zeros':>6} {'loom':>8} {'vs dense':>9} {'torch dense':>12} {'torch csr':>10} {'loom vs torch best':>19}")
        loom_dense = None
        for p in SPARSITIES:
            program = MODEL.format(x=x, y=y, extra="", prune=f"prune m {p}%" if p else "")
            ms = loom_seconds(program, "evaluate m on d\n", 1, 11) * 1000
            loom_dense = loom_dense or ms
            t_dense, t_sparse = (v * 1000 if v else None for v in torch[p])
            best = min(v for v in (t_dense, t_sparse) if v)
            print(f"{p:>5}% {ms:>8.1f} {loom_dense / ms:>8.2f}x {t_dense:>12.1f} "
                  f"{(f'{t_sparse:.1f}' if t_sparse else '-'):>10} {best / ms:>18.2f}x")
        print("vs dense: Loom's dense time over this one; loom vs torch best: PyTorch's faster path over Loom's time.")
        print("Training, one core, CPU seconds per epoch of 2,000 samples (batch 32); from 75% zeros a dense layer trains")
        print("through its sparse kernels (forward, input and weight gradients at the nonzeros):")
        plain = None
        for name, extra in [("dense", ""), ("kwta 10%", "\n  kwta 10%"), ("sparse 80%", " sparse 80%"),
                            ("sparse 90%", " sparse 90%"), ("sparse 95%", " sparse 95%")]:
            program = MODEL.format(x=x, y=y, extra=extra, prune="")
            seconds = loom_seconds(program, "train m on d epochs 1 batch 32\n", 2, 12)
            plain = plain or seconds
            print(f"  {name:<11} {seconds:.3f} s  ({seconds / plain:.2f}x the dense epoch)")
        packed_inference(folder, np.random.default_rng(2))
    sparse_convolution_training()


def packed_inference(folder, rng):
    """One 1024→1024 layer on 256 samples, dense and pruned 2:4, CPU ms per evaluation (two classes after it,
    as 1,024 would make `evaluate`'s confusion table cost more than the layer). CPU time, as the wall-clock
    ratio swung 1.26-1.79x between runs on a loaded machine while CPU time held to 1.48-1.49x."""
    x, y = f"{folder}/x1024.npy", f"{folder}/y1024.npy"
    np.save(x, rng.uniform(0, 1, (PACKED_SAMPLES, 1024)).astype(np.float32))
    np.save(y, rng.integers(0, 2, PACKED_SAMPLES).astype(np.int64))
    times = {}
    for name, prune in [("dense", ""), ("2:4", "prune m 2:4")]:
        program = PACKED_MODEL.format(x=x, y=y, prune=prune)
        times[name] = loom_seconds(program, "evaluate m on d\n", 5, 105) * 1000
    print(f"Inference of one dense 1024→1024 layer on {PACKED_SAMPLES} samples, one core, CPU ms per evaluation:")
    print(f"  dense {times['dense']:.2f}  2:4 packed {times['2:4']:.2f}  ({times['dense'] / times['2:4']:.2f}x the dense layer)")


def sparse_convolution_training():
    """The reference CNN (Keras's MNIST example) trained on 2,000 glyphs, CPU seconds per epoch, with its
    `conv2d 64 3x3` dense and `sparse` (its im2col patches times the kernel through the sparse kernels)."""
    print(f"Training the reference CNN, one core, CPU seconds per epoch of {CNN_SAMPLES} samples (batch 32), "
          "its conv2d 64 3x3:")
    plain = None
    for name, extra in [("dense", ""), ("sparse 80%", " sparse 80%"), ("sparse 90%", " sparse 90%"),
                        ("sparse 95%", " sparse 95%")]:
        program = CNN_MODEL.format(n=CNN_SAMPLES, extra=extra)
        seconds = loom_seconds(program, "train cnn on d epochs 1 batch 32\n", 1, 6)
        plain = plain or seconds
        print(f"  {name:<11} {seconds:.3f} s  ({seconds / plain:.2f}x the dense epoch)")


if __name__ == "__main__":
    if sys.argv[1:] == ["conv"]:
        print(machine.describe(LOOM, USER_ENV))
        sparse_convolution_training()
    else:
        main()
