"""The arithmetic of Loom's layers that the frameworks do not share: where
windows land (Keras's `same` padding), locally connected windows as
indices, HashedNets' fixed hash, k-winners' counts, LISTA's step, and each
layer's output shape."""

import numpy as np


def parse_shape(text):
    """`12x12x1` as (12, 12, 1)."""
    return tuple(int(p) for p in text.split("x"))


def _mix(key):
    """SplitMix64's finaliser over uint64 arrays (wrapping, as Loom's `WeightHash.mix`)."""
    with np.errstate(over="ignore"):
        z = key + np.uint64(0x9E3779B97F4A7C15)
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        return z ^ (z >> np.uint64(31))


def hashed_matrix(real, rows, columns):
    """HashedNets' virtual `[rows, columns]` matrix V[i, j] = ξ(i, j)·w[h(i, j)], Loom's fixed hash."""
    i = np.arange(rows, dtype=np.uint64)[:, None]
    j = np.arange(columns, dtype=np.uint64)[None, :]
    key = (i << np.uint64(32)) | j
    bucket = (_mix(key) % np.uint64(len(real))).astype(np.int64)
    sign = np.where((_mix(key ^ np.uint64(0x5851F42D4C957F2D)) >> np.uint64(63)) == 0, 1.0, -1.0).astype(np.float32)
    return sign * real[bucket]


def same_padding(size, kernel, stride):
    """Keras's `same` padding on one axis: (before, after), the extra after."""
    out = -(-size // stride)
    total = max((out - 1) * stride + kernel - size, 0)
    return total // 2, total - total // 2


def conv_output(size, kernel, stride, padding):
    """A window's output size on one axis, as Keras and Loom count it."""
    if padding == "same":
        return -(-size // stride)
    return (size - kernel) // stride + 1


def kwta_count(text, group):
    """Winners per group for `kwta K` or `kwta K%`."""
    if str(text).endswith("%"):
        return max(1, min(group, int(float(text[:-1]) / 100 * group + 1e-9)))
    return max(1, min(int(text), group))


def patch_indices(height, width, channels, kernel, stride, padding):
    """For a locally connected layer: the flat index into the zero-padded
    NHWC input of every tap of every window, `[positions, kh·kw·C]` in
    (row, column, channel) order, and the padded input's (height, width) and padding."""
    (kh, kw) = kernel
    (top, bottom), (left, right) = ((same_padding(height, kh, stride), same_padding(width, kw, stride))
                                    if padding == "same" else ((0, 0), (0, 0)))
    ph, pw = height + top + bottom, width + left + right
    oh, ow = conv_output(height, kh, stride, padding), conv_output(width, kw, stride, padding)
    oy, ox, ky, kx, c = np.meshgrid(np.arange(oh), np.arange(ow), np.arange(kh), np.arange(kw), np.arange(channels), indexing="ij")
    index = ((oy * stride + ky) * pw + (ox * stride + kx)) * channels + c
    return index.reshape(oh * ow, kh * kw * channels), (ph, pw), (top, bottom, left, right)


def lista_step(dictionary):
    """LISTA's fixed step 1/L, L the largest eigenvalue of DDᵀ (0 for an empty dictionary)."""
    d = dictionary.astype(np.float64)
    largest = float(np.linalg.eigvalsh(d @ d.T)[-1]) if d.size else 0.0
    return 1.0 / largest if largest > 0 else 0.0


def output_shape(layer, shape):
    """One sample's shape after `layer` (a LayerLine), given the shape before it."""
    kind, get = layer.kind, layer.get
    if kind in ("dense",):
        return shape[:-1] + (int(get("units")),)
    if kind in ("conv2d", "depthwise", "separable", "local2d", "maxpool", "avgpool"):
        (kh, kw) = layer.window("size" if kind in ("maxpool", "avgpool") else "kernel")
        stride = int(get("stride") or (kh if kind in ("maxpool", "avgpool") else 1))
        padding = get("padding", "valid")
        channels = {"depthwise": shape[2] * int(get("multiplier", 1)), "maxpool": shape[2], "avgpool": shape[2]}
        return (conv_output(shape[0], kh, stride, padding), conv_output(shape[1], kw, stride, padding),
                channels.get(kind, int(get("filters") or 0)))
    if kind in ("conv1d", "local1d", "maxpool1d"):
        k = int(get("size" if kind == "maxpool1d" else "kernel"))
        stride = int(get("stride") or (k if kind == "maxpool1d" else 1))
        steps = conv_output(shape[0], k, stride, get("padding", "valid"))
        return (steps, shape[1] if kind == "maxpool1d" else int(get("filters")))
    if kind == "globalpool":
        return (shape[-1],)
    if kind == "flatten":
        return (int(np.prod(shape)),)
    if kind == "reshape":
        return parse_shape(get("shape"))
    if kind in ("rnn", "lstm", "gru"):
        units = int(get("units")) * (2 if get("bidirectional") else 1)
        return (shape[0], units) if get("sequences") else (units,)
    if kind == "lista":
        return None  # the atoms: known from the layer's weights
    return shape
