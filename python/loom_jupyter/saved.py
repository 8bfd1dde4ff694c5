"""Loom's saved models as Python values: the safetensors file `save` writes
(its compact layouts made whole), the `model` block in its metadata read
into layers, and the way back (a file `load` reads).

NumPy is the one thing needed; the format is read and written here, so no
framework (nor the `safetensors` package) has to be installed."""

import json
import struct

ACTIVATIONS = ("relu", "tanh", "sigmoid", "softmax", "linear")


class LoomExportError(ValueError):
    """A model, layer or option the other framework (or Loom) has no equivalent for."""


def _numpy():
    try:
        import numpy
    except ImportError as error:  # pragma: no cover - numpy comes with either framework
        raise ImportError("loom_jupyter's model conversion needs NumPy: pip install numpy") from error
    return numpy


# --- safetensors --------------------------------------------------------------------------------------------------

def read_safetensors(path):
    """The tensors (NumPy arrays by name) and the metadata of a safetensors file."""
    np = _numpy()
    with open(path, "rb") as f:
        data = f.read()
    if len(data) < 8:
        raise LoomExportError(f"{path} is not a safetensors file: it is shorter than its header's length")
    (length,) = struct.unpack("<Q", data[:8])
    if 8 + length > len(data):
        raise LoomExportError(f"{path} is not a safetensors file: its header runs past the end")
    header = json.loads(data[8:8 + length])
    metadata = header.pop("__metadata__", {}) or {}
    body = memoryview(data)[8 + length:]
    dtypes = {"F32": np.float32, "U8": np.uint8}
    tensors = {}
    for name, entry in header.items():
        if entry["dtype"] not in dtypes:
            raise LoomExportError(f"{path}: tensor {name} is {entry['dtype']}; Loom's files hold F32 and U8")
        start, end = entry["data_offsets"]
        tensors[name] = np.frombuffer(body[start:end], dtype=dtypes[entry["dtype"]]).reshape(entry["shape"]).copy()
    return tensors, metadata


def write_safetensors(path, tensors, metadata):
    """Writes float32 tensors (name → array) and string metadata as safetensors."""
    np = _numpy()
    header, chunks, offset = {}, [], 0
    for name in sorted(tensors):
        array = np.ascontiguousarray(tensors[name], dtype=np.float32)
        raw = array.tobytes()
        header[name] = {"dtype": "F32", "shape": list(array.shape), "data_offsets": [offset, offset + len(raw)]}
        chunks.append(raw)
        offset += len(raw)
    header["__metadata__"] = metadata
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text + b"".join(chunks))


def _unpack_bits(packed, bits, count):
    np = _numpy()
    fields = np.unpackbits(packed, bitorder="little")[: count * bits].reshape(count, bits)
    return fields.astype(np.int64) @ (1 << np.arange(bits, dtype=np.int64))


def whole_weights(tensors, metadata):
    """The tensors with every compact weight (`loom.layout`: pruned, sparse,
    clustered) made whole: its kept values at their positions, zeros elsewhere."""
    np = _numpy()
    tensors = dict(tensors)
    for name, entry in json.loads(metadata.get("loom.layout", "{}")).items():
        if "gap_bits" in entry:
            bits = entry["gap_bits"]
            gaps = _unpack_bits(tensors.pop(name + ".gaps"), bits, entry["gaps"])
            positions = (np.cumsum(np.where(gaps == 0, 2**bits - 1, gaps)) - 1)[gaps != 0]
        else:
            positions = np.arange(entry["kept"])
        if "code_bits" in entry:
            codes = _unpack_bits(tensors.pop(name + ".codes"), entry["code_bits"], entry["kept"])
            values = tensors.pop(name + ".codebook")[codes]
        else:
            values = tensors.pop(name + ".values")
        weight = np.zeros(int(np.prod(entry["shape"])), np.float32)
        weight[positions] = values
        tensors[name] = weight.reshape(entry["shape"])
    return tensors


# --- the model block ----------------------------------------------------------------------------------------------

# Per family: its positional fields in order, its options that take a value, and its flags.
_FAMILIES = {
    "dense": (["units"], ["sparse", "tied", "hashed"], ["erk"]),
    "conv2d": (["filters", "kernel"], ["stride", "padding", "sparse", "groups"], ["erk"]),
    "depthwise": (["kernel"], ["multiplier", "stride", "padding"], []),
    "separable": (["filters", "kernel"], ["multiplier", "stride", "padding"], []),
    "local2d": (["filters", "kernel"], ["stride", "padding"], []),
    "maxpool": (["size"], ["stride"], []),
    "avgpool": (["size"], ["stride"], []),
    "conv1d": (["filters", "kernel"], ["stride", "padding"], []),
    "local1d": (["filters", "kernel"], ["stride", "padding"], []),
    "maxpool1d": (["size"], ["stride"], []),
    "globalpool": (["mode"], [], []),
    "flatten": ([], [], []),
    "reshape": (["shape"], [], []),
    "batchnorm": ([], ["momentum", "epsilon"], []),
    "layernorm": ([], ["epsilon"], []),
    "dropout": (["rate"], [], []),
    "rnn": (["units"], [], ["sequences", "bidirectional"]),
    "lstm": (["units"], [], ["sequences", "bidirectional"]),
    "gru": (["units"], [], ["sequences", "bidirectional"]),
    "threshold": (["epsilon"], [], []),
    "kwta": (["k"], ["boost", "inference"], ["global"]),
    "activity": (["penalty", "amount"], ["weight"], []),
    "lista": (["steps"], ["from", "alpha"], []),
}
_WITH_ACTIVATION = {"dense", "conv2d", "depthwise", "separable", "local2d", "conv1d", "local1d", "rnn", "lstm", "gru"}


class LayerLine:
    """One line of a saved `model` block: its family (`kind`), its block's name and its fields."""

    def __init__(self, kind, name, fields, share=None):
        self.kind, self.name, self.fields, self.share = kind, name, fields, share

    def get(self, field, default=None):
        return self.fields.get(field, default)

    def window(self, field):
        """A window field (`3x3`, `2`) as (height, width)."""
        text = str(self.fields[field])
        parts = [int(p) for p in text.split("x")]
        return (parts[0], parts[1]) if len(parts) == 2 else (parts[0], parts[0])

    def __repr__(self):
        return f"LayerLine({self.kind!r}, {self.name!r}, {self.fields!r}, share={self.share!r})"


def parse_shape(text):
    """`12x12x1` as (12, 12, 1)."""
    return tuple(int(p) for p in text.split("x"))


def parse_layer(line):
    """One layer line (`conv2d 4 3x3 relu stride 2 as conv1`) as a LayerLine."""
    words = line.split()
    kind, rest = words[0], words[1:]
    if kind not in _FAMILIES:
        raise LoomExportError(f"the saved model has a `{kind}` layer, which this version of loom_jupyter does not know")
    positional, options, flags = _FAMILIES[kind]
    fields, name, share, queue = {}, None, None, list(positional)
    i = 0
    while i < len(rest):
        word = rest[i]
        if word in ("as", "share") and i + 1 < len(rest):
            name, share = (rest[i + 1], share) if word == "as" else (name, rest[i + 1])
            i += 2
        elif word in options and i + 1 < len(rest):
            fields[word] = rest[i + 1]
            i += 2
        elif word in flags:
            fields[word] = True
            i += 1
        elif kind in _WITH_ACTIVATION and word in ACTIVATIONS:
            fields["activation"] = word
            i += 1
        elif queue:
            fields[queue.pop(0)] = word
            i += 1
        else:
            raise LoomExportError(f"`{line}`: `{word}` is not a field of `{kind}` this version of loom_jupyter knows")
    if kind in _WITH_ACTIVATION:
        fields.setdefault("activation", "tanh" if kind in ("rnn", "lstm", "gru") else "linear")
    return LayerLine(kind, name or kind, fields, share)


def parse_definition(text):
    """The saved `model` block as (input shape, [LayerLine])."""
    lines = [line.strip() for line in text.strip().splitlines()]
    if not lines or not lines[0].startswith("model ") or lines[-1] != "}":
        raise LoomExportError("the file's loom.definition is not a `model` block")
    body = [line for line in lines[1:-1] if line]
    if not body or not body[0].startswith("input "):
        raise LoomExportError("the file's model block has no `input` line")
    return parse_shape(body[0].split()[1]), [parse_layer(line) for line in body[1:]]


class SavedModel:
    """A model file Loom's `save` wrote: its input shape, layers and whole weights."""

    def __init__(self, path):
        tensors, metadata = read_safetensors(path)
        if metadata.get("loom.format") != "loom-model-1":
            raise LoomExportError(f"{path} is not a Loom model file (its loom.format is {metadata.get('loom.format')!r})")
        self.path = path
        self.metadata = metadata
        self.tensors = whole_weights(tensors, metadata)
        self.input_shape, self.layers = parse_definition(metadata["loom.definition"])
        self.by_name = {layer.name: layer for layer in self.layers}

    def weight(self, layer, name):
        """`layer.name`'s tensor; for a layer that shares (`share L`), the lender's."""
        owner = layer.share or layer.name
        key = f"{owner}.{name}"
        if key not in self.tensors:
            raise LoomExportError(f"{self.path} has no tensor {key}")
        return self.tensors[key]

    def dense_kernel(self, layer, inputs):
        """A dense layer's `[inputs, units]` kernel: its own, a hashed layer's virtual matrix, or a tied layer's lender's, transposed."""
        if layer.get("tied"):
            return self.weight(self.by_name[layer.get("tied")], "kernel").T
        if layer.get("hashed"):
            return hashed_matrix(self.weight(layer, "kernel")[:, 0], inputs, int(layer.get("units")))
        return self.weight(layer, "kernel")


def _mix(key):
    """SplitMix64's finaliser over uint64 arrays (wrapping, as Loom's `WeightHash.mix`)."""
    np = _numpy()
    with np.errstate(over="ignore"):
        z = key + np.uint64(0x9E3779B97F4A7C15)
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        return z ^ (z >> np.uint64(31))


def hashed_matrix(real, rows, columns):
    """HashedNets' virtual `[rows, columns]` matrix V[i, j] = ξ(i, j)·w[h(i, j)], Loom's fixed hash."""
    np = _numpy()
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
    np = _numpy()
    (kh, kw) = kernel
    (top, bottom), (left, right) = ((same_padding(height, kh, stride), same_padding(width, kw, stride))
                                    if padding == "same" else ((0, 0), (0, 0)))
    ph, pw = height + top + bottom, width + left + right
    oh, ow = conv_output(height, kh, stride, padding), conv_output(width, kw, stride, padding)
    oy, ox, ky, kx, c = np.meshgrid(np.arange(oh), np.arange(ow), np.arange(kh), np.arange(kw), np.arange(channels), indexing="ij")
    index = ((oy * stride + ky) * pw + (ox * stride + kx)) * channels + c
    return index.reshape(oh * ow, kh * kw * channels), (ph, pw), (top, bottom, left, right)


def kwta_inference(saved, layer, shape):
    """A `kwta` layer at inference: (k, values per group, each unit's boost factor from its saved duty cycle)."""
    np = _numpy()
    get = layer.get
    group = int(np.prod(shape)) if get("global") or len(shape) != 3 else shape[-1]
    boost = np.ones(shape[-1], np.float32)
    if float(get("boost", 0)) > 0:
        share = np.float32(kwta_count(get("k"), group) / group)
        boost = np.exp(np.float32(get("boost")) * (share - saved.weight(layer, "duty_cycles"))).astype(np.float32)
    return kwta_count(get("inference") or get("k"), group), group, boost


def scale_and_shift(gamma, beta, features):
    """A normalisation's `gamma` and `beta`, ones and zeros for those a framework's layer leaves out."""
    np = _numpy()
    return {"gamma": np.ones(features) if gamma is None else gamma, "beta": np.zeros(features) if beta is None else beta}


def saved_state(saved, layer):
    """What a layer keeps beside its weights: k-winners' duty cycles, LISTA's starting dictionary."""
    parts = {"kwta": ["duty_cycles", "duty_samples"], "lista": ["dictionary"]}.get(layer.kind, [])
    return {part: saved.weight(layer, part) for part in parts if f"{layer.name}.{part}" in saved.tensors}


def lista_arguments(saved, layer):
    """A `lista` layer's steps, fixed step size and weights (encoder, mutual, threshold)."""
    return (int(layer.get("steps")), lista_step(saved.weight(layer, "dictionary")), saved.weight(layer, "encoder"),
            saved.weight(layer, "mutual"), saved.weight(layer, "threshold"))


def lista_step(dictionary):
    """LISTA's fixed step 1/L, L the largest eigenvalue of DDᵀ (0 for an empty dictionary)."""
    np = _numpy()
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
        return (int(_numpy().prod(shape)),)
    if kind == "reshape":
        return parse_shape(get("shape"))
    if kind in ("rnn", "lstm", "gru"):
        units = int(get("units")) * (2 if get("bidirectional") else 1)
        return (shape[0], units) if get("sequences") else (units,)
    if kind == "lista":
        return None  # the atoms: known from the layer's weights
    return shape


class ModelWriter:
    """A `model` block and its weights, one layer at a time, written as a file Loom's `load` reads."""

    def __init__(self, source):
        self.source = source  # what the layers came from, for messages: "Keras", "PyTorch"
        self.lines, self.tensors, self.counts = [], {}, {}

    def add(self, kind, words=(), activation=None, options=None, tensors=None):
        """A layer: its positional words, activation, options (`stride 2`) and tensors by part (`kernel`)."""
        self.counts[kind] = self.counts.get(kind, 0) + 1
        name = f"{kind}{self.counts[kind]}"
        line = {"kind": kind, "name": name, "words": [str(w) for w in words], "activation": activation,
                "options": {k: v for k, v in (options or {}).items() if v is not None}}
        self.lines.append(line)
        for part, value in (tensors or {}).items():
            self.tensors[f"{name}.{part}"] = _numpy().asarray(value, dtype=_numpy().float32)
        return name

    def add_line(self, line, tensors, separate_activation=False):
        """A layer as its saved line (a LayerLine) gave it, with its tensors: Loom's own layers coming back.
        With `separate_activation`, its activation is a module of its own that follows (torch's way)."""
        positional, options, flags = _FAMILIES[line.kind]
        activation = line.fields.get("activation")
        return self.add(line.kind, [line.fields[f] for f in positional if f in line.fields],
                        "linear" if activation and separate_activation else activation,
                        {f: line.fields[f] for f in options + flags if f in line.fields}, tensors)

    def fold_activation(self, activation, what):
        """A separate activation layer, folded into the layer before it (Loom's activations belong to layers)."""
        last = self.lines[-1] if self.lines else None
        if last is None or last["activation"] not in ("linear",):
            raise LoomExportError(f"{self.source}'s {what} follows no layer Loom can give it to: in Loom an activation "
                                  "belongs to a dense, convolution or locally connected layer without one")
        last["activation"] = activation
        return last["name"]

    def definition(self, input_shape, name="imported"):
        text = [f"model {name} {{", "  input " + "x".join(str(int(d)) for d in input_shape)]
        for line in self.lines:
            words = [line["kind"]] + line["words"] + ([line["activation"]] if line["activation"] else [])
            for key, value in line["options"].items():
                words += [key] if value is True else [key, str(value)]
            text.append("  " + " ".join(words + ["as", line["name"]]))
        return "\n".join(text + ["}"])

    def write(self, path, input_shape):
        if not self.lines:
            raise LoomExportError(f"the {self.source} model has no layers Loom could hold")
        metadata = {"loom.format": "loom-model-1", "loom.definition": self.definition(input_shape), "loom.epochs": "0"}
        write_safetensors(path, self.tensors, metadata)
