"""docs/scaling.md's tables: per-sample training time (one thread, batch 32)
and the weights and MACs `summary` prints for the tutorials' models, through
`loom eval`, then a ring-allreduce model of the speed-up on 8, 64 and 512
ranks. Usage: OPENBLAS_CORETYPE=Haswell python Benchmarks/scaling_model.py [LOOM]"""
import re, subprocess, json, sys
LOOM = sys.argv[1] if len(sys.argv) > 1 else ".build/release/loom"
MODELS = {
 "01 shared (conv 8 5x5)": ("glyphs n 2048 size 28", "input 28x28x1\n  conv2d 8 5x5 relu\n  maxpool 2\n  flatten\n  dense 10 softmax", ""),
 "01 unshared (dense 64)": ("glyphs n 2048 size 28", "input 28x28x1\n  flatten\n  dense 64 relu\n  dense 10 softmax", ""),
 "02 cnn (Keras MNIST CNN)": ("glyphs n 1024 size 28", "input 28x28x1\n  conv2d 32 3x3 relu\n  maxpool 2\n  conv2d 64 3x3 relu\n  maxpool 2\n  flatten\n  dropout 0.5\n  dense 10 softmax", ""),
 "03 seq (lstm 50)": ("sines n 2048 steps 10 classes 10", "input 10x1\n  lstm 50 tanh\n  dense 10 softmax", ""),
 "03 lstm50 (lstm 32, 50 steps)": ("adding n 2048 steps 50", "input 50x2\n  lstm 32\n  dense 1 linear", " loss mse"),
 "05 mlp (256-256)": ("glyphs n 2048 size 28", "input 28x28x1\n  flatten\n  dense 256 relu\n  dense 256 relu\n  dense 10 softmax", ""),
 "06/08 lenet-300-100": ("glyphs n 2048 size 28", "input 28x28x1\n  flatten\n  dense 300 relu\n  dense 100 relu\n  dense 10 softmax", ""),
 "07 tied autoencoder": ("glyphs n 4096 size 8", "input 8x8x1\n  flatten\n  dense 64 relu as enc\n  dense 64 linear tied enc\n  reshape 8x8x1", " target inputs"),
}
out = {}
for name, (data, body, extra) in MODELS.items():
    n = int(re.search(r"n (\d+)", data).group(1))
    program = (f"set threads 1\nset progress off\nseed 1\ndata d = {data}\nmodel m {{\n  {body}\n}}\n"
               f"train m on d epochs 1 batch 32{extra}\n" + "".join(f"time train m on d epochs 1 batch 32{extra}\n" for _ in range(3)))
    r = subprocess.run([LOOM, "eval", "-"], input=program, capture_output=True, text=True, timeout=600)
    times = [float(v) * (1e-3 if u == "ms" else 1) for v, u in re.findall(r"time: ([\d.]+) (ms|s) \(wall", r.stdout)]
    summary = subprocess.run([LOOM, "eval", "-"], input=f"model m {{\n  {body}\n}}\nsummary m\n", capture_output=True, text=True).stdout
    total = [l for l in summary.splitlines() if "total" in l.lower()]
    out[name] = {"samples": n, "epoch_seconds": times, "per_sample_us": 1e6 * sorted(times)[len(times) // 2] / n, "total": total[:2], "err": r.stderr[-300:]}

m = out
ALPHA = 10e-6  # per message latency, s
rows = []
for name, r in m.items():
    nums = [int(x.replace(",", "")) for x in re.findall(r"[\d,]+(?=\s*│)", r["total"][0]) if x.strip(",")]
    params, macs = nums[0], nums[-1]
    ts = r["per_sample_us"] * 1e-6
    if name.startswith("03 seq"): ts = r["epoch_seconds"][0] / r["samples"]  # later epochs stopped early
    est = 6 * macs / 80e9
    rows.append((name, params, macs, ts, est))
print("| model | weights | MACs/sample | bytes/step (gradients) | measured µs/sample | compute-bound µs/sample |")
print("|---|---:|---:|---:|---:|---:|")
for name, p, macs, ts, est in rows:
    print(f"| {name} | {p:,} | {macs:,} | {4*p/1e6:.2f} MB | {ts*1e6:.0f} | {est*1e6:.1f} |")
print()
G = 256
for label, which in (("measured", 3), ("compute-bound", 4)):
    print(f"Speed-up at a global batch of {G} ({label} compute per sample):\n")
    print("| model | 8 ranks, 10 Gbit/s | 64, 10 | 512, 10 | 8, 100 Gbit/s | 64, 100 | 512, 100 | batch where communication = compute (8 / 64 / 512 ranks, 10 Gbit/s) | (100 Gbit/s) |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for row in rows:
        name, p, ts = row[0], row[1], row[which]
        cells, cross = [], {}
        for bw in (10e9, 100e9):
            for n in (8, 64, 512):
                comm = 2 * (n - 1) / n * 4 * p * 8 / bw + 2 * (n - 1) * ALPHA
                compute = G / n * ts
                cells.append(f"{G * ts / (compute + comm):.1f}×")
                cross.setdefault(bw, []).append(f"{n * comm / ts:,.0f}")
        print(f"| {name} | " + " | ".join(cells) + f" | {' / '.join(cross[10e9])} | {' / '.join(cross[100e9])} |")
    print()
