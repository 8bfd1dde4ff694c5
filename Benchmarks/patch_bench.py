"""Patch extraction side by side with scikit-learn: every 8x8 patch (stride
1) of the six tutorial photographs (notebooks/data/photos, 335,727 patches),
Loom's `data p = patches from "photos/" size 8` against
`extract_patches_2d(image, (8, 8))` on each image, concatenated, in float32.

Loom's time is the whole statement: reading the PNG files, decoding them
through libpng and cutting the patches; scikit-learn's is the cut alone, the
images decoded beforehand. Both on one core, the median of several runs;
the counts must agree (PictureTests checks the values against scikit-learn's).
Run with `make bench`."""

import json
import os
import re
import subprocess
from pathlib import Path

import machine

ROOT = Path(__file__).resolve().parents[1]
LOOM = os.environ.get("LOOM_BIN") or str(ROOT / ".build" / "release" / "loom")
BENCH_PY = os.environ.get("BENCH_PY") or str(ROOT / ".venv-bench" / "bin" / "python")
PHOTOS = ROOT / "notebooks" / "data" / "photos"
ONE_THREAD, USER_ENV = machine.ONE_THREAD, machine.USER_ENV
RUNS = 7

PYTHON = r"""
import json, struct, sys, time, zlib
from pathlib import Path
import numpy as np
from sklearn.feature_extraction.image import extract_patches_2d

def grey_png(path):
    # The tutorial photographs: 8-bit grey, rows behind filter 0 (none) or 2 (up).
    data = path.read_bytes()
    width, height = struct.unpack(">II", data[16:24])
    at, idat = 8, b""
    while at < len(data):
        length, kind = struct.unpack(">I4s", data[at:at + 8])
        if kind == b"IDAT":
            idat += data[at + 8:at + 8 + length]
        at += 12 + length
    rows = np.frombuffer(zlib.decompress(idat), np.uint8).reshape(height, width + 1)
    assert set(rows[:, 0]) <= {0, 2}
    out = np.zeros((height, width), np.uint8)
    for y in range(height):
        out[y] = rows[y, 1:] + (out[y - 1] if y and rows[y, 0] == 2 else 0)
    return out.astype(np.float32) / 255

images = [grey_png(p) for p in sorted(Path(sys.argv[1]).glob("*.png"), key=lambda p: p.name.encode())]
times = []
for _ in range(int(sys.argv[2])):
    start = time.perf_counter()
    patches = np.concatenate([extract_patches_2d(image, (8, 8)) for image in images])
    times.append(time.perf_counter() - start)
print(json.dumps({"seconds": sorted(times)[len(times) // 2], "count": len(patches)}))
"""


def loom():
    """The median time (ms) of the statement, and the patch count."""
    program = f'set threads 1\nset plots text\n' + f'time {{\n  data p = patches from "{PHOTOS}/" size 8\n}}\n' * RUNS
    result = subprocess.run(["taskset", "-c", "0", LOOM, "eval", "-"], input=program.encode(), capture_output=True,
                            env=USER_ENV)
    assert result.returncode == 0, result.stderr.decode()
    text = result.stdout.decode("utf-8", "replace")
    times = [float(v.replace(",", "")) * (1000 if unit == "s" else 1) for v, unit in re.findall(r"time: ([\d.,]+) (ms|s)\b", text)]
    count = int(re.search(r"p: ([\d,]+) samples", text).group(1).replace(",", ""))
    return sorted(times)[len(times) // 2], count


def main():
    kernel = machine.describe(LOOM, USER_ENV)
    ms, count = loom()
    out = subprocess.run(["taskset", "-c", "0", BENCH_PY, "-c", PYTHON, str(PHOTOS), str(RUNS)], capture_output=True,
                         text=True, check=True, env={**os.environ, **ONE_THREAD}).stdout
    sk = json.loads(out.strip().splitlines()[-1])
    assert sk["count"] == count, f"scikit-learn cut {sk['count']} patches, Loom {count}"
    print(f"{kernel}; every 8x8 patch of the six tutorial photographs ({count:,} patches), one core")
    print(f"{'loom ms (read, decode, cut)':>28} {'extract_patches_2d ms (cut)':>28} {'loom faster':>12}")
    print(f"{ms:>28.1f} {sk['seconds'] * 1000:>28.1f} {sk['seconds'] * 1000 / ms:>11.2f}x")


if __name__ == "__main__":
    main()
