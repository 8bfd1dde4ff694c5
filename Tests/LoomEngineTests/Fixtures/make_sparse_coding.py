"""Makes sparse-coding.safetensors, the scikit-learn reference values the
sparse coding tests compare with. Run once with scikit-learn and safetensors:

    python make_sparse_coding.py

- omp.*: the 8x8 digits (raw 0-16, as notebooks/data/digits.csv holds them)
  coded by sparse_encode(algorithm='omp', n_nonzero_coefs=5) over a fixed
  dictionary: 100 digits drawn with seed 0, each scaled to unit norm. Stored
  sparsely: each code's atom numbers (ascending, at most 5) and their
  coefficients.
- lasso.*: 15 random signals of 10 values over 20 random unit atoms (seed 1),
  coded by the lasso min 1/2 |x - a D|^2 + alpha |a|_1 with alpha 0.1, free
  and positive. sparse_encode(algorithm='lasso_cd') solves this with
  Lasso(alpha / n_features); the same Lasso is run here with a tolerance of
  1e-12 so the reference is the optimum, not an early stop.
"""
import numpy as np
from safetensors.numpy import save_file
from sklearn.datasets import load_digits
from sklearn.decomposition import sparse_encode
from sklearn.linear_model import Lasso

x = load_digits().data.astype(np.float64)
rng = np.random.RandomState(0)
atoms = x[rng.choice(len(x), 100, replace=False)]
atoms /= np.linalg.norm(atoms, axis=1, keepdims=True)
codes = sparse_encode(x, atoms, algorithm="omp", n_nonzero_coefs=5)
# The 100 digits in the dictionary are coded by themselves, one atom each:
# their rows are padded with atom -1 and coefficient 0.
support = np.full((len(x), 5), -1)
values = np.zeros((len(x), 5))
for i, c in enumerate(codes):
    used = np.sort(np.flatnonzero(c))
    support[i, :len(used)] = used
    values[i, :len(used)] = c[used]

rng = np.random.RandomState(1)
d = rng.randn(20, 10)
d /= np.linalg.norm(d, axis=1, keepdims=True)
signals = rng.randn(15, 10)
alpha = 0.1
lasso = {}
for positive in (False, True):
    model = Lasso(alpha=alpha / d.shape[1], fit_intercept=False, positive=positive, tol=1e-12, max_iter=1_000_000)
    lasso[positive] = np.array([model.fit(d.T, s).coef_ for s in signals])
    coarse = sparse_encode(signals, d, algorithm="lasso_cd", alpha=alpha, positive=positive, max_iter=10_000)
    assert np.abs(coarse - lasso[positive]).max() < 1e-3, "sparse_encode should agree with the tight Lasso"

f32 = lambda a: np.ascontiguousarray(a, dtype=np.float32)
save_file({
    "omp.dictionary": f32(atoms), "omp.support": f32(support), "omp.values": f32(values),
    "lasso.dictionary": f32(d), "lasso.signals": f32(signals),
    "lasso.codes": f32(lasso[False]), "lasso.positive": f32(lasso[True]),
}, "sparse-coding.safetensors", metadata={"alpha": str(alpha), "sklearn": __import__("sklearn").__version__})
print("wrote sparse-coding.safetensors")
