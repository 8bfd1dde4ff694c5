"""A real data set through `csv`: scikit-learn's 8x8 handwritten digits
(1,797 scanned digits), split once (stratified, seeded) into train.csv and
test.csv. The same small CNN is trained by Loom, reading the CSV files, and
by Keras (JAX backend), reading the same numbers: same layers, Adam with its
defaults, batch 32, the same epochs. Test accuracy over several seeds; Loom
should reach what Keras reaches. Run with `make bench` (in the benchmark's
virtualenv, which has scikit-learn and Keras)."""

import os
import re
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("KERAS_BACKEND", "jax")

import numpy as np
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

ROOT = Path(__file__).resolve().parents[1]
LOOM = os.environ.get("LOOM_BIN") or str(ROOT / ".build" / "release" / "loom")
EPOCHS = 15
SEEDS = [1, 2, 3]

LOOM_CODE = """seed {seed}
data train = csv "{train}" label last shape 8x8x1 scale 0.0625
data test = csv "{test}" label last shape 8x8x1 scale 0.0625
model net {{
  input 8x8x1
  conv2d 32 3x3 relu
  maxpool 2
  flatten
  dense 64 relu
  dense 10 softmax
}}
train net on train epochs {epochs} batch 32 optimizer adam
evaluate net on test
"""


def write_csv(path, x, y):
    header = ",".join(f"p{i}" for i in range(x.shape[1])) + ",label"
    np.savetxt(path, np.column_stack([x, y]), fmt="%d", delimiter=",", header=header, comments="")


def loom(seed, train, test):
    out = subprocess.run([LOOM, "eval", "-"], input=LOOM_CODE.format(seed=seed, train=train, test=test, epochs=EPOCHS),
                         capture_output=True, text=True, check=True).stdout
    return float(re.search(r"│ accuracy\s+│\s+([\d.]+)%", out).group(1)) / 100


def keras_accuracy(seed, x_train, y_train, x_test, y_test):
    import keras
    keras.utils.set_random_seed(seed)
    model = keras.Sequential([
        keras.Input((8, 8, 1)),
        keras.layers.Conv2D(32, 3, activation="relu"),
        keras.layers.MaxPooling2D(2),
        keras.layers.Flatten(),
        keras.layers.Dense(64, activation="relu"),
        keras.layers.Dense(10, activation="softmax"),
    ])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    model.fit(x_train, y_train, epochs=EPOCHS, batch_size=32, verbose=0)
    return model.evaluate(x_test, y_test, verbose=0)[1]


def main():
    digits = load_digits()
    x_train, x_test, y_train, y_test = train_test_split(digits.data.astype(int), digits.target, test_size=0.2,
                                                        stratify=digits.target, random_state=0)
    with tempfile.TemporaryDirectory() as folder:
        train, test = os.path.join(folder, "train.csv"), os.path.join(folder, "test.csv")
        write_csv(train, x_train, y_train)
        write_csv(test, x_test, y_test)
        shape = (-1, 8, 8, 1)
        as_images = lambda x: (x / 16).astype("float32").reshape(shape)
        rows = [(seed, loom(seed, train, test),
                 keras_accuracy(seed, as_images(x_train), y_train, as_images(x_test), y_test)) for seed in SEEDS]
    print(f"digits (8x8, {len(y_train)} train / {len(y_test)} test), CNN, Adam, batch 32, {EPOCHS} epochs: test accuracy")
    print(f"{'seed':>5} {'loom':>8} {'keras':>8}")
    for seed, a, b in rows:
        print(f"{seed:>5} {a:>8.2%} {b:>8.2%}")
    mean_loom, mean_keras = statistics.mean(r[1] for r in rows), statistics.mean(r[2] for r in rows)
    print(f"{'mean':>5} {mean_loom:>8.2%} {mean_keras:>8.2%}   difference {mean_loom - mean_keras:+.2%}")
    if mean_loom < mean_keras - 0.01:
        sys.exit("Loom's accuracy is more than a point below Keras's")


if __name__ == "__main__":
    main()
