"""Deep Compression (Han et al. 2016) in Loom: LeNet-300-100 on MNIST and on
Fashion-MNIST, one core. The dense model is trained, pruned with Han et al.'s
per-layer rates (92%, 91% and 74% of the three layers' weights: ~92% of
all), retrained, then clustered to 32 shared values per layer and
fine-tuned, and clustered further to 16 and to 4 values, fine-tuned each
time. Each step's test accuracy and the bytes `save` writes (pruned and
clustered weights in the compact layout), and the ratio of the dense file's
bytes to each; beside them, for scale, the size of `torch.save` of a
PyTorch twin's state dict (the dense model in float32). Last, as a second
baseline, the dense model trained on alone to as many epochs as the
pipeline's last step has had.

MNIST: the full set (60,000 + 10,000) when `data m = mnist` finds it in
Loom's cache ($LOOM_DATA, else ~/.cache/loom/datasets: nothing is downloaded
here), else the committed subset in notebooks/data/mnist (4,000 + 1,000).
Fashion-MNIST: the full set, MNIST's format and sizes, from Debian's
`dataset-fashion-mnist` (/usr/share/datasets/fashion-mnist, or
$FASHION_MNIST_DIR), when present, with the same rates and schedule: they
were tuned for MNIST and are kept as they are. Loom runs as a user's machine
runs it (this machine's OpenBLAS pins unset for its commands). Run with
`make bench`."""

import os
import re
import subprocess
import tempfile
from pathlib import Path

import machine
from dataset_bench import FILES as FASHION_FILES, SOURCE as FASHION

ROOT = Path(__file__).resolve().parents[1]
LOOM = os.environ.get("LOOM_BIN") or str(ROOT / ".build" / "release" / "loom")
BENCH_PY = os.environ.get("BENCH_PY") or str(ROOT / ".venv-bench" / "bin" / "python")
SUBSET = ROOT / "notebooks" / "data" / "mnist"
USER_ENV = machine.USER_ENV
# Han et al.'s LeNet-300-100: the share of each layer's weights pruned
PRUNED = {"dense1": 92, "dense2": 91, "dense3": 74}
EPOCHS = {"dense": 10, "retrain": 5, "fine-tune": 3}
# The epochs the last step has had, from the start: the dense model is also trained this long, for comparison
TOTAL_EPOCHS = EPOCHS["dense"] + EPOCHS["retrain"] + 3 * EPOCHS["fine-tune"]
TARGET = (30, 0.5)  # at least 30x smaller stored bytes than dense, within 0.5 points of its accuracy

TORCH_CODE = """
import os, sys, torch, torch.nn as nn
torch.manual_seed(1)
net = nn.Sequential(nn.Flatten(), nn.Linear(784, 300), nn.ReLU(), nn.Linear(300, 100), nn.ReLU(), nn.Linear(100, 10))
torch.save(net.state_dict(), sys.argv[1])
print(os.path.getsize(sys.argv[1]))
"""


def cached_mnist():
    """Whether Loom's cache holds full MNIST (its folder with the training images)."""
    cache = Path(os.environ.get("LOOM_DATA") or Path.home() / ".cache" / "loom" / "datasets") / "mnist"
    return any((cache / name).exists() for name in ("train-images-idx3-ubyte.gz", "train-images-idx3-ubyte"))


def program(data, folder):
    """The pipeline; every step evaluates its model on the test part after `# step I` and saves to I's file when asked.
    Last, a copy of the dense model trains on alone to as many epochs as the pipeline's last step has had."""
    train = "quiet {{\n  train {} on digits.train epochs {} batch 32\n}}"
    steps = [("dense", "net", [train.format("net", EPOCHS["dense"])], True),
             ("pruned ~92%, retrained", "net", ["model longer = copy net"]
              + [f"prune net {p}% layer {layer}" for layer, p in PRUNED.items()]
              + [train.format("net", EPOCHS["retrain"])], True)]
    for values in (32, 16, 4):
        steps.append((f"clustered to {values}", "net", [f"cluster net {values}"], False))
        steps.append((f"clustered to {values}, fine-tuned", "net", [train.format("net", EPOCHS["fine-tune"])], True))
    steps.append((f"dense, trained {TOTAL_EPOCHS} epochs", "longer",
                  [train.format("longer", TOTAL_EPOCHS - EPOCHS["dense"])], False))
    lines = ["set threads 1", "set plots text", "seed 1", data, "model net {", "  input 28x28x1", "  flatten",
             "  dense 300 relu", "  dense 100 relu", "  dense 10 softmax", "}"]
    for i, (_, model, statements, saved) in enumerate(steps):
        lines += statements + [f"print \"# step {i}\"", f"evaluate {model} on digits.test"]
        if saved:
            lines.append(f'save {model} "{folder}/step{i}.safetensors"')
    return [name for name, _, _, _ in steps], "\n".join(lines) + "\n"


def run(data):
    """The pipeline on one core: each step's name, its test accuracy (%) and the bytes `save` wrote, by step."""
    with tempfile.TemporaryDirectory() as folder:
        names, code = program(data, folder)
        result = subprocess.run(["taskset", "-c", "0", LOOM, "eval", "-"], input=code.encode(), capture_output=True,
                                env=USER_ENV)
        if result.returncode != 0:
            raise SystemExit(f"compression bench: loom failed on `{data}`:\n{result.stderr.decode()}")
        sizes = {i: os.path.getsize(f"{folder}/step{i}.safetensors") for i in range(len(names))
                 if os.path.exists(f"{folder}/step{i}.safetensors")}
    accuracy = {}
    for part in result.stdout.decode("utf-8", "replace").split("# step ")[1:]:
        step = int(part.split("\n", 1)[0])
        accuracy[step] = float(re.search(r"│ accuracy +│ +([\d.]+)% │", part).group(1))
    return names, accuracy, sizes


def report(names, accuracy, sizes, torch_bytes):
    """Prints one run's table and the smallest file within the target's points of dense."""
    print(f"dense {EPOCHS['dense']} epochs; pruned {', '.join(f'{layer} {p}%' for layer, p in PRUNED.items())} and "
          f"retrained {EPOCHS['retrain']} epochs; each clustering fine-tuned {EPOCHS['fine-tune']} epochs "
          "(Adam, batch 32)")
    print(f"{'step':<32} {'accuracy':>9} {'vs dense':>9} {'bytes':>10} {'smaller':>8}")
    dense = sizes[0]
    for i, name in enumerate(names):
        stored = f"{sizes[i]:>10,} {dense / sizes[i]:>7.1f}x" if i in sizes else f"{'':>10} {'':>8}"
        print(f"{name:<32} {accuracy[i]:>8.2f}% {accuracy[i] - accuracy[0]:>+8.2f} {stored}")
    print(f"{'PyTorch twin, torch.save (dense)':<32} {'':>9} {'':>9} {torch_bytes:>10,} {dense / torch_bytes:>7.1f}x")
    print("bytes: the file `save` writes (not saved before fine-tuning: the same size); smaller: the dense file over")
    print(f"it; dense, trained {TOTAL_EPOCHS} epochs: the dense model trained on alone as long as the last step has.")
    ratio, points = TARGET
    within = [(sizes[i], i) for i in sizes if accuracy[i] >= accuracy[0] - points]
    size, i = min(within)
    met = "met" if dense / size >= ratio else "not met"
    longer = accuracy[len(names) - 1]
    print(f"smallest within {points} points of dense: {names[i]}, {dense / size:.1f}x smaller, "
          f"{accuracy[i] - accuracy[0]:+.2f} points (target: {ratio}x within {points} points: {met}); "
          f"{accuracy[i] - longer:+.2f} points against the dense model trained {TOTAL_EPOCHS} epochs")


def torch_twin_bytes():
    """The bytes of `torch.save` of the dense PyTorch twin's state dict."""
    with tempfile.TemporaryDirectory() as folder:
        out = subprocess.run([BENCH_PY, "-c", TORCH_CODE, f"{folder}/torch.pt"], capture_output=True, text=True,
                             check=True).stdout
    return int(out.split()[-1])


def main():
    kernel = machine.describe(LOOM, USER_ENV)
    torch_bytes = torch_twin_bytes()
    full = cached_mnist()
    data = "data digits = mnist" if full else f'data digits = mnist path "{SUBSET}"'
    where = "full MNIST (60,000 to train, 10,000 to test)" if full else \
        "the MNIST subset in notebooks/data/mnist (4,000 to train, 1,000 to test; full MNIST is not in Loom's cache)"
    print(f"{kernel}; Deep Compression of LeNet-300-100 on {where}, one core")
    report(*run(data), torch_bytes)

    print()
    if not all((FASHION / f).is_file() for f in FASHION_FILES):
        print(f"Fashion-MNIST: not in {FASHION} (apt-get install dataset-fashion-mnist, or set FASHION_MNIST_DIR); "
              "skipped")
        return
    print(f"Deep Compression of LeNet-300-100 on full Fashion-MNIST from {FASHION} (60,000 to train, 10,000 to test), "
          "one core; Han et al.'s rates and the schedule above, tuned for MNIST, unchanged")
    report(*run(f'data digits = mnist fashion path "{FASHION}"'), torch_bytes)


if __name__ == "__main__":
    main()
