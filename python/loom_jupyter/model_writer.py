"""A `model` block and its weights written as a file Loom's `load` reads:
what `from_keras` and `from_torch` fill, one layer at a time."""

import numpy as np

from .saved import FAMILIES, LoomExportError, write_safetensors


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
            self.tensors[f"{name}.{part}"] = np.asarray(value, dtype=np.float32)
        return name

    def add_line(self, line, tensors, separate_activation=False):
        """A layer as its saved line (a LayerLine) gave it, with its tensors: Loom's own layers coming back.
        With `separate_activation`, its activation is a module of its own that follows (torch's way)."""
        positional, options, flags = FAMILIES[line.kind]
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


def scale_and_shift(gamma, beta, features):
    """A normalisation's `gamma` and `beta`, ones and zeros for those a framework's layer leaves out."""
    return {"gamma": np.ones(features) if gamma is None else gamma, "beta": np.zeros(features) if beta is None else beta}
