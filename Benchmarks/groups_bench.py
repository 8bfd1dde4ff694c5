"""Grouped and depthwise convolutions trained by Loom and by PyTorch
(`nn.Conv2d(groups=…)`) side by side, on one core: samples per second and
their ratio. Each model is the convolution on 16x16x64 inputs, then a
global average and a dense softmax, trained with Adam at batch 32, so the
convolution is nearly all of the work:

- grouped:   conv2d 64 3x3 padding same groups 8   (Conv2d(64, 64, 3, padding=1, groups=8))
- depthwise: depthwise 3x3 padding same            (Conv2d(64, 64, 3, padding=1, groups=64))
- depthwise ×2: depthwise 3x3 multiplier 2 padding same   (Conv2d(64, 128, 3, padding=1, groups=64))

Both train on the same random inputs (an .npy file); each framework runs in
its own process pinned to core 0 and reports the median of its epochs after
the first. Loom runs as a user's machine runs it (this machine's OpenBLAS
pins unset for its commands). Run with `make bench`."""

import os
import re
import statistics
import subprocess
import tempfile
from pathlib import Path

import numpy as np

import machine

ROOT = Path(__file__).resolve().parents[1]
LOOM = os.environ.get("LOOM_BIN") or str(ROOT / ".build" / "release" / "loom")
BENCH_PY = os.environ.get("BENCH_PY") or str(ROOT / ".venv-bench" / "bin" / "python")
SAMPLES = int(os.environ.get("BENCH_SAMPLES", "8192"))  # Loom reports epoch times to 0.1 s: >1 s epochs
EPOCHS = int(os.environ.get("BENCH_EPOCHS", "4"))  # the first is warm-up; the median of the rest is timed
SIZE, CHANNELS = 16, 64

# (name, Loom's layer line, PyTorch's convolution)
CASES = [
    ("grouped (groups 8)", "conv2d 64 3x3 padding same groups 8", "nn.Conv2d(64, 64, 3, padding=1, groups=8)", 64),
    ("depthwise", "depthwise 3x3 padding same", "nn.Conv2d(64, 64, 3, padding=1, groups=64)", 64),
    ("depthwise x2", "depthwise 3x3 multiplier 2 padding same", "nn.Conv2d(64, 128, 3, padding=1, groups=64)", 128),
]

LOOM_CODE = """seed 1
set threads 1
data d = npy "{x}" labels "{y}"
model m {{
  input {size}x{size}x{channels}
  {layer}
  globalpool avg
  dense 10 softmax
}}
train m on d epochs {epochs} batch 32
"""

TORCH_CODE = """
import time, numpy as np, torch, torch.nn as nn
torch.set_num_threads(1); torch.manual_seed(1)
x = torch.from_numpy(np.load("{x}")).permute(0, 3, 1, 2).contiguous(); y = torch.from_numpy(np.load("{y}")).long()
net = nn.Sequential({conv}, nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear({outputs}, 10))
opt = torch.optim.Adam(net.parameters(), lr=1e-3); loss = nn.CrossEntropyLoss()
times = []
for epoch in range({epochs}):
    start = time.perf_counter()
    for i in range(0, {n}, 32):
        opt.zero_grad(); l = loss(net(x[i:i+32]), y[i:i+32]); l.backward(); opt.step()
    times.append(time.perf_counter() - start)
print(sorted(times[1:])[len(times[1:]) // 2])
"""


def loom(layer, x, y):
    code = LOOM_CODE.format(x=x, y=y, size=SIZE, channels=CHANNELS, layer=layer, epochs=EPOCHS)
    out = subprocess.run(["taskset", "-c", "0", LOOM, "eval", "-"], input=code, capture_output=True, text=True, check=True,
                         env={**machine.USER_ENV, "OPENBLAS_NUM_THREADS": "1"}).stdout
    epochs = re.findall(r"│\s+(\d+) │.*│\s+([\d.]+) s │", out)
    return SAMPLES / statistics.median_low(float(s) for e, s in epochs if int(e) > 1)


def torch(conv, outputs, x, y):
    code = TORCH_CODE.format(x=x, y=y, conv=conv, outputs=outputs, epochs=EPOCHS, n=SAMPLES)
    out = subprocess.run(["taskset", "-c", "0", BENCH_PY, "-c", code], capture_output=True, text=True, check=True,
                         env={**os.environ, **machine.ONE_THREAD}).stdout
    return SAMPLES / float(out.strip().splitlines()[-1])


def main():
    print(machine.describe(LOOM, machine.USER_ENV))
    rng = np.random.default_rng(1)
    with tempfile.TemporaryDirectory() as folder:
        x, y = f"{folder}/x.npy", f"{folder}/y.npy"
        np.save(x, rng.uniform(0, 1, (SAMPLES, SIZE, SIZE, CHANNELS)).astype(np.float32))
        np.save(y, rng.integers(0, 10, SAMPLES).astype(np.int64))
        print(f"training on {SAMPLES} samples of {SIZE}x{SIZE}x{CHANNELS}, batch 32, Adam, one core")
        print(f"{'layer':<20} {'loom samples/s':>15} {'pytorch samples/s':>18} {'loom / pytorch':>15}")
        for name, layer, conv, outputs in CASES:
            ours, theirs = loom(layer, x, y), torch(conv, outputs, x, y)
            print(f"{name:<20} {ours:>15.0f} {theirs:>18.0f} {ours / theirs:>14.2f}x")


if __name__ == "__main__":
    main()
