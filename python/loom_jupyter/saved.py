"""Loom's saved models as Python values: the safetensors file `save` writes
(its compact layouts made whole) and the `model` block in its metadata read
into layers.

NumPy is the one thing needed; the format is read and written here, so no
framework (nor the `safetensors` package) has to be installed."""

import json
import struct

import numpy as np

from .geometry import hashed_matrix, kwta_count, lista_step, parse_shape

ACTIVATIONS = ("relu", "tanh", "sigmoid", "softmax", "linear")


class LoomExportError(ValueError):
    """A model, layer or option the other framework (or Loom) has no equivalent for."""


# --- safetensors --------------------------------------------------------------------------------------------------

def read_safetensors(path):
    """The tensors (NumPy arrays by name) and the metadata of a safetensors file."""
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
    fields = np.unpackbits(packed, bitorder="little")[: count * bits].reshape(count, bits)
    return fields.astype(np.int64) @ (1 << np.arange(bits, dtype=np.int64))


def whole_weights(tensors, metadata):
    """The tensors with every compact weight (`loom.layout`: pruned, sparse,
    clustered) made whole: its kept values at their positions, zeros elsewhere."""
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
FAMILIES = {
    "dense": (["units"], ["sparse", "tied", "hashed", "l2"], ["erk"]),
    "conv2d": (["filters", "kernel"], ["stride", "padding", "sparse", "groups", "l2"], ["erk"]),
    "depthwise": (["kernel"], ["multiplier", "stride", "padding", "l2"], []),
    "separable": (["filters", "kernel"], ["multiplier", "stride", "padding", "l2"], []),
    "local2d": (["filters", "kernel"], ["stride", "padding", "l2"], []),
    "maxpool": (["size"], ["stride"], []),
    "avgpool": (["size"], ["stride"], []),
    "conv1d": (["filters", "kernel"], ["stride", "padding", "l2"], []),
    "local1d": (["filters", "kernel"], ["stride", "padding", "l2"], []),
    "maxpool1d": (["size"], ["stride"], []),
    "globalpool": (["mode"], [], []),
    "flatten": ([], [], []),
    "reshape": (["shape"], [], []),
    "batchnorm": ([], ["momentum", "epsilon"], []),
    "layernorm": ([], ["epsilon"], []),
    "dropout": (["rate"], [], []),
    "rnn": (["units"], ["l2"], ["sequences", "bidirectional"]),
    "lstm": (["units"], ["l2"], ["sequences", "bidirectional"]),
    "gru": (["units"], ["l2"], ["sequences", "bidirectional"]),
    "threshold": (["epsilon"], [], []),
    "kwta": (["k"], ["boost", "inference"], ["global"]),
    "activity": (["penalty", "amount"], ["weight"], []),
    "lista": (["steps"], ["from", "alpha"], []),
}
WITH_ACTIVATION = {"dense", "conv2d", "depthwise", "separable", "local2d", "conv1d", "local1d", "rnn", "lstm", "gru"}


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


def parse_layer(line):
    """One layer line (`conv2d 4 3x3 relu stride 2 as conv1`) as a LayerLine."""
    words = line.split()
    kind, rest = words[0], words[1:]
    if kind not in FAMILIES:
        raise LoomExportError(f"the saved model has a `{kind}` layer, which this version of loom_jupyter does not know")
    positional, options, flags = FAMILIES[kind]
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
        elif kind in WITH_ACTIVATION and word in ACTIVATIONS:
            fields["activation"] = word
            i += 1
        elif queue:
            fields[queue.pop(0)] = word
            i += 1
        else:
            raise LoomExportError(f"`{line}`: `{word}` is not a field of `{kind}` this version of loom_jupyter knows")
    if kind in WITH_ACTIVATION:
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


def kwta_inference(saved, layer, shape):
    """A `kwta` layer at inference: (k, values per group, each unit's boost factor from its saved duty cycle)."""
    get = layer.get
    group = int(np.prod(shape)) if get("global") or len(shape) != 3 else shape[-1]
    boost = np.ones(shape[-1], np.float32)
    if float(get("boost", 0)) > 0:
        share = np.float32(kwta_count(get("k"), group) / group)
        boost = np.exp(np.float32(get("boost")) * (share - saved.weight(layer, "duty_cycles"))).astype(np.float32)
    return kwta_count(get("inference") or get("k"), group), group, boost


def saved_state(saved, layer):
    """What a layer keeps beside its weights: k-winners' duty cycles, LISTA's starting dictionary."""
    parts = {"kwta": ["duty_cycles", "duty_samples"], "lista": ["dictionary"]}.get(layer.kind, [])
    return {part: saved.weight(layer, part) for part in parts if f"{layer.name}.{part}" in saved.tensors}


def lista_arguments(saved, layer):
    """A `lista` layer's steps, fixed step size and weights (encoder, mutual, threshold): the threshold is
    the learned α times the step (as Loom cuts, none below α = 0), or θ itself in files that stored it."""
    step = lista_step(saved.weight(layer, "dictionary"))
    if f"{layer.name}.alpha" in saved.tensors:
        alpha = saved.weight(layer, "alpha").astype(np.float64)
        threshold = (np.maximum(alpha, 0) * step).astype(np.float32)
    else:
        threshold = saved.weight(layer, "threshold")
    return (int(layer.get("steps")), step, saved.weight(layer, "encoder"), saved.weight(layer, "mutual"), threshold)
