"""What structured pruning and the compact writer buy, on the wide MLP of
sparse_bench.py (784-2048-2048-10, 2,000 random samples, one core):

- `prune M P% units` then `compact M` at 50, 75 and 90% of the hidden units
  against the dense model: inference on the 2,000 samples and one training
  epoch (batch 32, Adam), each time beside the share of multiply-adds the
  compacted model keeps (speed in proportion to what it removes means the
  time ratio follows that share);
- the bytes `save` writes for the dense model, pruned to 50-95% (per layer),
  pruned 2:4, clustered to 16 and 4 values, pruned 90% and clustered to 16,
  and compacted: each file's size, its ratio to the dense file and its bytes
  per nonzero weight (a file whose size is proportional to its nonzeros keeps
  that figure level).

Everything runs in one Loom process, the models' timings interleaved round by
round (`time { … }`, wall clock), the median of the rounds. Loom runs as a
user's machine runs it (this machine's OpenBLAS pins unset for its commands).
Run with `make bench`."""

import os
import re
import subprocess
import tempfile
from pathlib import Path

import machine
from sparse_bench import SAMPLES, random_samples

ROOT = Path(__file__).resolve().parents[1]
LOOM = os.environ.get("LOOM_BIN") or str(ROOT / ".build" / "release" / "loom")
USER_ENV = machine.USER_ENV
SHARES = [50, 75, 90]
ROUNDS = {"evaluate": 7, "train": 3}
# saved models: name, what was done to a copy of the dense model
FILES = [("dense", []), ("pruned 50%", ["prune {m} 50%"]), ("pruned 75%", ["prune {m} 75%"]),
         ("pruned 90%", ["prune {m} 90%"]), ("pruned 95%", ["prune {m} 95%"]), ("pruned 2:4", ["prune {m} 2:4"]),
         ("clustered to 16 values", ["cluster {m} 16"]), ("clustered to 4 values", ["cluster {m} 4"]),
         ("pruned 90%, clustered to 16", ["prune {m} 90%", "cluster {m} 16"])]
FILES += [(f"{p}% units, compacted", [f"prune {{m}} {p}% units", "compact {m}"]) for p in SHARES]

MODEL = """model m {
  input 784
  dense 2048 relu
  dense 2048 relu
  dense 10 softmax
}
"""


def program(x, y, folder):
    lines = ["set threads 1", "set plots text", f'data d = npy "{x}" labels "{y}"', MODEL]
    timed = ["m"]
    for p in SHARES:
        lines += [f"model c{p} = copy m", f"prune c{p} {p}% units", f"compact c{p}", f"summary c{p}"]
        timed.append(f"c{p}")
    lines.append("summary m")
    for task, rounds in ROUNDS.items():
        statement = "evaluate {m} on d" if task == "evaluate" else "train {m} on d epochs 1 batch 32"
        for _ in range(rounds):
            for m in timed:
                lines += [f"# {task} {m}", "time {", "  " + statement.format(m=m), "}"]
    for i, (_, steps) in enumerate(FILES):
        lines.append(f"model f{i} = copy m")
        lines += [step.format(m=f"f{i}") for step in steps]
        lines += [f"show sparsity f{i}", f'save f{i} "{folder}/f{i}.safetensors"']
    return "\n".join(lines) + "\n"


def parse(text):
    """MACs per sample by model (from `summary`), and nonzero weights by saved model in order (from `show sparsity`)."""
    macs, nonzeros, model = {}, [], None
    for line in text.splitlines():
        if m := re.match(r"^Model (\w+):", line):
            model = m.group(1)
        if (m := re.match(r"^│ total +│ +│ .*│ +([\d,]+) │$", line)) and model:
            macs[model] = int(m.group(1).replace(",", ""))
        if re.match(r"^sparsity of f\d+$", line):
            nonzeros.append(None)
        if (m := re.match(r"^│ total +│ +[\d,]+ │ +[\d.]+% │ +([\d,]+) │$", line)) and nonzeros and nonzeros[-1] is None:
            nonzeros[-1] = int(m.group(1).replace(",", ""))
    return macs, nonzeros


def run_loom(code):
    """Loom's output for `code`, on one core in a user's environment."""
    result = subprocess.run(["taskset", "-c", "0", LOOM, "eval", "-"], input=code.encode(), capture_output=True,
                            env=USER_ENV)
    assert result.returncode == 0, result.stderr.decode()
    return result.stdout.decode("utf-8", "replace")


def main():
    kernel = machine.describe(LOOM, USER_ENV)
    with tempfile.TemporaryDirectory() as folder:
        x, y = random_samples(folder)
        code = program(x, y, folder)
        text = run_loom(code)
        sizes = [os.path.getsize(f"{folder}/f{i}.safetensors") for i in range(len(FILES))]
    # `time` prints after its block: each time's label is the comment before that block in the program
    labels = [line[2:] for line in code.splitlines() if line.startswith("# ")]
    macs, nonzeros = parse(text)
    walls = [float(v.replace(",", "")) * {"µs": 0.001, "ms": 1, "s": 1000}[u]
             for v, u in re.findall(r"^time: ([\d.,]+) (µs|ms|s) \(wall clock\)", text, re.M)]
    assert len(walls) == len(labels), f"{len(walls)} times for {len(labels)} timed blocks"
    times = {}
    for label, ms in zip(labels, walls):
        times.setdefault(tuple(label.split()), []).append(ms)
    median = {key: sorted(v)[len(v) // 2] for key, v in times.items()}

    print(f"{kernel}; 784-2048-2048-10, {SAMPLES:,} samples, one core, median of "
          f"{ROUNDS['evaluate']} (inference) and {ROUNDS['train']} (epoch) interleaved rounds")
    print("`prune M P% units` + `compact M` against the dense model (MACs: multiply-adds per sample, as `summary` counts them)")
    print(f"{'model':<22} {'MACs':>10} {'share':>6} {'inference ms':>13} {'speed-up':>9} {'epoch ms':>9} {'speed-up':>9}")
    for name in ["m"] + [f"c{p}" for p in SHARES]:
        label = "dense" if name == "m" else f"{name[1:]}% units, compacted"
        infer, epoch = median[("evaluate", name)], median[("train", name)]
        print(f"{label:<22} {macs[name]:>10,} {macs[name] / macs['m']:>6.3f} {infer:>13.1f} "
              f"{median[('evaluate', 'm')] / infer:>8.2f}x {epoch:>9.1f} {median[('train', 'm')] / epoch:>8.2f}x")
    print("speed-up: the dense model's time over this one's; in proportion to what compact removes, it would be 1 ÷ share.")

    print("\nFiles `save` writes (safetensors; pruned and clustered weights in the compact layout)")
    print(f"{'model':<30} {'bytes':>12} {'÷ dense':>8} {'nonzero weights':>16} {'bytes/nonzero':>14}")
    for (name, _), size, count in zip(FILES, sizes, nonzeros):
        print(f"{name:<30} {size:>12,} {sizes[0] / size:>7.2f}x {count:>16,} {size / count:>14.2f}")
    print("nonzero weights: weights and biases not zero (show sparsity); ÷ dense: the dense file's size over this one's.")


if __name__ == "__main__":
    main()
