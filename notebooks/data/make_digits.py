"""Writes digits.csv from scikit-learn's copy of the UCI optical-digits test
set: 1,797 scans of 8×8 pixels (whole numbers 0–16), one a row, the class
(0–9) in the last column, with a header. Run once:

    .venv-bench/bin/python notebooks/data/make_digits.py
"""
from pathlib import Path

from sklearn.datasets import load_digits

digits = load_digits()
rows = [",".join([f"p{i}" for i in range(64)] + ["label"])]
for image, label in zip(digits.data.astype(int), digits.target):
    rows.append(",".join(map(str, image)) + f",{label}")
out = Path(__file__).with_name("digits.csv")
out.write_text("\n".join(rows) + "\n")
print(f"wrote {out}: {len(rows) - 1} rows")
