"""Makes locally-connected.safetensors, the fixture LocallyConnectedTests reads:
Keras 2's LocallyConnected2D and LocallyConnected1D (dropped from Keras 3) on
random weights, computed from their definition in numpy as Keras 2's
`keras.backend.local_conv` computes them: at output position (i, j) the
input window [i*s : i*s+kh, j*s : j*s+kw, :], flattened in (row, column,
channel) order, times kernel[i*out_cols + j] ((out_rows*out_cols,
kh*kw*channels, filters)), plus bias[i, j] ((out_rows, out_cols, filters)).
Keras 2 offered `valid` padding only; the `same` case pads as Keras's
convolutions do (out = ceil(in / s), the odd pixel at the end). Each output
is checked against PyTorch's unfold and a batched product before it is
written. Run once, with the bench virtualenv:

    .venv-bench/bin/python Tests/LoomEngineTests/Fixtures/make_locally_connected.py
"""
from pathlib import Path

import numpy as np
import torch
from safetensors.numpy import save_file

rng = np.random.default_rng(2026)


def padded(x, kh, kw, stride, padding):
    """The input with `same` padding added (nothing for `valid`), and the output size."""
    n, h, w, c = x.shape
    if padding == "valid":
        return x, (h - kh) // stride + 1, (w - kw) // stride + 1
    ho, wo = -(-h // stride), -(-w // stride)
    ph, pw = max((ho - 1) * stride + kh - h, 0), max((wo - 1) * stride + kw - w, 0)
    x = np.pad(x, ((0, 0), (ph // 2, ph - ph // 2), (pw // 2, pw - pw // 2), (0, 0)))
    return x, ho, wo


def local_conv2d(x, kernel, bias, kh, kw, stride, padding):
    """Keras 2's local_conv for channels_last, position by position."""
    x, ho, wo = padded(x, kh, kw, stride, padding)
    out = np.zeros((x.shape[0], ho, wo, kernel.shape[-1]), np.float64)
    for i in range(ho):
        for j in range(wo):
            window = x[:, i * stride:i * stride + kh, j * stride:j * stride + kw, :].reshape(x.shape[0], -1)
            out[:, i, j, :] = window.astype(np.float64) @ kernel[i * wo + j].astype(np.float64)
    return (out + bias.reshape(1, ho, wo, -1)).astype(np.float32)


def torch_unfold(x, kernel, bias, kh, kw, stride, padding):
    """The same layer as PyTorch computes it: unfold, then one batched product over positions."""
    x, ho, wo = padded(x, kh, kw, stride, padding)
    n, c = x.shape[0], x.shape[3]
    cols = torch.nn.functional.unfold(torch.from_numpy(x).permute(0, 3, 1, 2), (kh, kw), stride=stride)  # n, c*kh*kw, L
    cols = cols.reshape(n, c, kh, kw, ho * wo).permute(4, 0, 2, 3, 1).reshape(ho * wo, n, kh * kw * c)
    y = torch.bmm(cols.double(), torch.from_numpy(kernel).double())  # L, n, F
    return (y.permute(1, 0, 2).reshape(n, ho, wo, -1).numpy() + bias.reshape(1, ho, wo, -1)).astype(np.float32)


tensors = {}
cases = [  # name, input shape, kernel, stride, padding, filters
    ("valid", (2, 6, 5, 3), (3, 2), 1, "valid", 4),
    ("strided", (2, 7, 6, 2), (3, 3), 2, "valid", 3),
    ("same", (2, 5, 5, 2), (3, 3), 2, "same", 3),
    ("seq", (2, 9, 1, 3), (3, 1), 2, "valid", 4),  # LocallyConnected1D: steps × 1 images
]
for name, shape, (kh, kw), stride, padding, filters in cases:
    x = rng.uniform(-1, 1, shape).astype(np.float32)
    _, ho, wo = padded(x, kh, kw, stride, padding)
    kernel = rng.uniform(-0.5, 0.5, (ho * wo, kh * kw * shape[3], filters)).astype(np.float32)
    bias = rng.uniform(-0.5, 0.5, (ho, wo, filters)).astype(np.float32)
    y = local_conv2d(x, kernel, bias, kh, kw, stride, padding)
    assert np.allclose(y, torch_unfold(x, kernel, bias, kh, kw, stride, padding), atol=1e-6), name
    if name == "seq":  # Keras 2's LocallyConnected1D: input (n, steps, features), bias (steps out, filters)
        x, bias, y = x[:, :, 0, :], bias[:, 0, :], y[:, :, 0, :]
    tensors.update({f"{name}.input": x, f"{name}.kernel": kernel, f"{name}.bias": bias, f"{name}.output": y})
out = Path(__file__).with_name("locally-connected.safetensors")
save_file(tensors, str(out), metadata={"reference": "Keras 2 local_conv in numpy, checked against torch unfold"})
print(f"wrote {out} ({len(tensors)} tensors)")
