"""A torch.nn.Module as a file Loom's `load` reads (`from_torch`): a chain of
layers (nn.Sequential, nested or not) in torch's layouts, turned into
Loom's (Keras's): kernels transposed, images channels last, a flattened
image's columns reordered, recurrent gates in Keras's order."""

import numpy as np
from torch import nn

from . import torch_export as ours
from .geometry import conv_output, output_shape, same_padding
from .model_writer import ModelWriter, scale_and_shift
from .saved import LoomExportError

ACTIVATIONS = {nn.ReLU: "relu", nn.Tanh: "tanh", nn.Sigmoid: "sigmoid"}
RECURRENT = {nn.RNN: "rnn", nn.LSTM: "lstm", nn.GRU: "gru"}
SPATIAL = (nn.Conv2d, nn.MaxPool2d, nn.AvgPool2d, nn.BatchNorm2d, nn.Conv1d, nn.MaxPool1d, ours.Pad)


def _layers(module):
    """The chain of leaf layers: nn.Sequential's children in order, opened recursively."""
    if isinstance(module, nn.Sequential):
        return [leaf for child in module for leaf in _layers(child)]
    if isinstance(module, (nn.Identity,)):
        return []
    if any(True for _ in module.children()) and not isinstance(module, tuple(RECURRENT)):
        raise LoomExportError(f"from_torch reads chains of layers (nn.Sequential); {type(module).__name__} has a forward of its own")
    return [module]


def _numpy(tensor):
    return tensor.detach().cpu().numpy().astype(np.float32)


def _scale_and_shift(module, features):
    return scale_and_shift(None if module.weight is None else _numpy(module.weight), None if module.bias is None else _numpy(module.bias),
                           features)


class _Chain:
    """Walks the layers, keeping the sample's shape in Loom's order and where torch holds its channels."""

    def __init__(self, input_shape, layers):
        self.writer = ModelWriter("PyTorch")
        spatial_first = next((isinstance(m, SPATIAL) for m in layers if not isinstance(m, (nn.Dropout, nn.Identity))), False)
        self.first = len(input_shape) > 1 and spatial_first
        self.shape = tuple(input_shape[1:]) + tuple(input_shape[:1]) if self.first else tuple(input_shape)
        self.input_shape = self.shape
        self.pads = None  # a Pad module's padding, for the convolution after it
        self.columns = None  # a flattened channels-first image's order, for the dense layer after it
        self.recurrent = None  # a recurrent layer, until the RecurrentOutput that says what it gives
        self.names = {}  # each module with weights → its Loom block: a module used again shares them (`share`)

    def window_options(self, module, kernel, stride, padding):
        """`stride` and `padding` of a torch convolution, as Loom writes them; refused when Loom has no equal."""
        sizes = self.shape[:len(kernel)]
        same = [same_padding(size, k, stride) for size, k in zip(sizes, kernel)]
        pads = self.pads
        self.pads = None
        if padding == "same" and stride == 1:
            pads = [((k - 1) // 2, k - 1 - (k - 1) // 2) for k in kernel]
        elif padding != "same" and pads is None:
            given = padding if isinstance(padding, (tuple, list)) else (padding,) * len(kernel)
            pads = [(p, p) for p in given]
        if all(p == (0, 0) for p in pads):
            return {"stride": stride if stride != 1 else None}
        if [tuple(p) for p in pads] != same:
            raise LoomExportError(f"{type(module).__name__}: Loom pads `valid` or `same` (Keras's), not {pads}")
        return {"stride": stride if stride != 1 else None, "padding": "same"}

    def add(self, module):
        w = self.writer
        if self.columns is not None and not isinstance(module, (nn.Linear, nn.Dropout)):
            raise LoomExportError(f"{type(module).__name__} after flattening a channels-first image: Loom flattens channels "
                                  "last, so only a Linear layer (whose columns are reordered) may come next")
        if id(module) in self.names:
            self.again(module)
        elif getattr(module, "loom_line", None) is not None:  # one of Loom's own layers, from to_torch
            w.add_line(module.loom_line, {**module.loom_state, **module.loom_tensors()}, separate_activation=True)
            self.shape = output_shape(module.loom_line, self.shape) or (module.loom_tensors()["encoder"].shape[0],)
        elif isinstance(module, ours.TiedLinear):
            lender = self.names.get(id(module.lender[0]))
            if lender is None:
                raise LoomExportError("a TiedLinear whose lender is not an earlier layer of the chain")
            bias = _numpy(module.bias)
            w.add("dense", [bias.shape[0]], "linear", {"tied": lender}, {"bias": bias})
            self.shape = self.shape[:-1] + (bias.shape[0],)
        elif isinstance(module, ours.Channels):
            self.first = module.first
        elif isinstance(module, ours.Pad):
            pads = module.pads
            self.pads = [(pads[2], pads[3]), (pads[0], pads[1])] if len(pads) == 4 else [(pads[0], pads[1])]
        elif type(module) in ACTIVATIONS:
            w.fold_activation(ACTIVATIONS[type(module)], type(module).__name__)
        elif isinstance(module, nn.Softmax):
            if module.dim not in (-1, 1 if self.first else len(self.shape)):
                raise LoomExportError(f"Softmax over dim {module.dim}: Loom's softmax runs over the features (channels)")
            w.fold_activation("softmax", "Softmax")
        elif isinstance(module, nn.Linear):
            kernel = _numpy(module.weight).T
            if self.columns is not None:
                kernel, self.columns = kernel[self.columns], None
            bias = _numpy(module.bias) if module.bias is not None else np.zeros(kernel.shape[1], np.float32)
            self.names[id(module)] = w.add("dense", [kernel.shape[1]], "linear", tensors={"kernel": kernel, "bias": bias})
            self.shape = self.shape[:-1] + (kernel.shape[1],)
        elif isinstance(module, (nn.Conv2d, nn.Conv1d)):
            self.convolution(module)
        elif isinstance(module, (nn.MaxPool2d, nn.AvgPool2d, nn.MaxPool1d)):
            self.pooling(module)
        elif isinstance(module, nn.Flatten):
            if len(self.shape) > 1 and self.first:
                # Loom's flat index (h, w, c) reads torch's (c, h, w).
                self.columns = np.arange(int(np.prod(self.shape))).reshape((self.shape[-1],) + self.shape[:-1])
                self.columns = np.moveaxis(self.columns, 0, -1).reshape(-1)
            w.add("flatten")
            self.shape, self.first = (int(np.prod(self.shape)),), False
        elif isinstance(module, nn.Dropout):
            w.add("dropout", [module.p])
        elif isinstance(module, (nn.BatchNorm1d, nn.BatchNorm2d)):
            if not module.track_running_stats:
                raise LoomExportError("BatchNorm without running statistics: Loom's batchnorm predicts with its moving mean and "
                                      "variance")
            tensors = {**_scale_and_shift(module, module.num_features),
                       "moving_mean": _numpy(module.running_mean), "moving_variance": _numpy(module.running_var)}
            w.add("batchnorm", options={"momentum": round(1 - (module.momentum or 0.1), 6), "epsilon": module.eps}, tensors=tensors)
        elif isinstance(module, nn.LayerNorm):
            if tuple(module.normalized_shape) != (self.shape[-1],) or (self.first and len(self.shape) > 1):
                raise LoomExportError("LayerNorm over other than the last axis: Loom's layernorm normalises the features alone")
            w.add("layernorm", options={"epsilon": module.eps}, tensors=_scale_and_shift(module, self.shape[-1]))
        elif isinstance(module, tuple(RECURRENT)):
            self.recurrent = module
        elif isinstance(module, ours.RecurrentOutput):
            self.recurrent_output(module)
        elif isinstance(module, ours.Threshold):
            w.add("threshold", [module.epsilon])
        elif isinstance(module, ours.GlobalPool):
            w.add("globalpool", [module.mode])
            self.shape = (self.shape[-1],)
        elif isinstance(module, ours.Reshape):
            w.add("reshape", ["x".join(map(str, module.shape))])
            self.shape = module.shape
        elif isinstance(module, nn.Embedding):
            raise LoomExportError("Loom has no embedding layer (nn.Embedding): its models take numbers, not token indices")
        else:
            raise LoomExportError(f"Loom has no equivalent of PyTorch's {type(module).__name__}")
        if self.recurrent is not None and not isinstance(module, tuple(RECURRENT)):
            raise LoomExportError(f"{type(self.recurrent).__name__} returns a tuple: follow it with "
                                  "loom_jupyter.torch_export.RecurrentOutput(sequences, bidirectional) to say what the next layer takes")

    def again(self, module):
        """A module met before: the same weights, so a line that shares them (`share BLOCK`)."""
        if not isinstance(module, nn.Linear) or self.columns is not None:
            raise LoomExportError(f"{type(module).__name__} used twice: from_torch shares Linear layers only, and not "
                                  "right after flattening a channels-first image")
        lender = self.names[id(module)]
        line = next(line for line in self.writer.lines if line["name"] == lender)
        self.writer.add(line["kind"], line["words"], "linear", {**line["options"], "share": lender})
        self.shape = self.shape[:-1] + (module.out_features,)

    def convolution(self, module):
        if module.padding_mode != "zeros" or set(np.ravel(module.dilation)) != {1}:
            raise LoomExportError(f"{type(module).__name__}: Loom pads with zeros and has no dilation")
        if not self.first:
            raise LoomExportError(f"{type(module).__name__} on a channels-last tensor: torch convolves channels first")
        strides = set(np.ravel(module.stride))
        if len(strides) != 1:
            raise LoomExportError(f"{type(module).__name__}: Loom's stride is the same along both axes, not {module.stride}")
        stride = strides.pop()
        kernel_size = tuple(module.kernel_size)
        options = self.window_options(module, kernel_size, stride, module.padding)
        weight = _numpy(module.weight)
        bias = _numpy(module.bias) if module.bias is not None else np.zeros(module.out_channels, np.float32)
        if isinstance(module, nn.Conv2d):
            options["groups"] = module.groups if module.groups != 1 else None
            self.names[id(module)] = self.writer.add("conv2d", [module.out_channels, "x".join(map(str, kernel_size))], "linear", options,
                            {"kernel": weight.transpose(2, 3, 1, 0), "bias": bias})
        else:
            if module.groups != 1:
                raise LoomExportError("Conv1d with groups: Loom's conv1d has none")
            self.names[id(module)] = self.writer.add("conv1d", [module.out_channels, kernel_size[0]], "linear", options,
                            {"kernel": weight.transpose(2, 1, 0), "bias": bias})
        padding = options.get("padding", "valid")
        self.shape = tuple(conv_output(size, k, stride, padding) for size, k in zip(self.shape, kernel_size)) + (module.out_channels,)

    def pooling(self, module):
        def pair(v):
            return tuple(v) if isinstance(v, (tuple, list)) else (v,) * (1 if isinstance(module, nn.MaxPool1d) else 2)

        size, stride = pair(module.kernel_size), set(pair(module.stride or module.kernel_size))
        if set(pair(module.padding)) != {0} or module.ceil_mode or set(pair(getattr(module, "dilation", 1))) != {1} or len(stride) != 1:
            raise LoomExportError(f"{type(module).__name__}: Loom's pooling has no padding, dilation or ceil mode, and one stride")
        stride = stride.pop()
        options = {"stride": stride if stride != size[0] else None}
        if isinstance(module, nn.MaxPool1d):
            self.writer.add("maxpool1d", [size[0]], options=options)
        else:
            self.writer.add("maxpool" if isinstance(module, nn.MaxPool2d) else "avgpool", ["x".join(map(str, size))], options=options)
        self.shape = tuple((s - k) // stride + 1 for s, k in zip(self.shape, size)) + (self.shape[-1],)

    def recurrent_output(self, module):
        cell, self.recurrent = self.recurrent, None
        if cell is None:
            raise LoomExportError("RecurrentOutput follows no recurrent layer")
        kind = RECURRENT[type(cell)]
        if not cell.batch_first or cell.num_layers != 1 or not cell.bias or getattr(cell, "proj_size", 0):
            raise LoomExportError(f"{type(cell).__name__}: Loom's {kind} is one batch-first layer with biases and no projection")
        if cell.bidirectional != module.bidirectional:
            raise LoomExportError("RecurrentOutput's bidirectional differs from its recurrent layer's")
        activation = getattr(cell, "nonlinearity", "tanh")
        gates, units = {"rnn": 1, "lstm": 4, "gru": 3}[kind], cell.hidden_size
        order = ours.RECURRENT_ORDER.get(kind, list(range(gates)))

        def keras_order(rows):  # torch's gate rows → Keras's column blocks
            blocks = rows.reshape((gates, units) + rows.shape[1:])[np.argsort(order)]
            return blocks.reshape(rows.shape)

        tensors = {}
        for suffix, prefix in zip(["", "_reverse"], ["forward.", "backward."] if cell.bidirectional else [""]):
            get = (lambda n, s=suffix: _numpy(getattr(cell, f"{n}_l0{s}")))
            tensors[prefix + "kernel"] = keras_order(get("weight_ih")).T
            tensors[prefix + "recurrent_kernel"] = keras_order(get("weight_hh")).T
            input_bias, recurrent_bias = keras_order(get("bias_ih")), keras_order(get("bias_hh"))
            tensors[prefix + "bias"] = np.stack([input_bias, recurrent_bias]) if kind == "gru" else input_bias + recurrent_bias
        options = {"sequences": True if module.sequences else None, "bidirectional": True if cell.bidirectional else None}
        self.writer.add(kind, [units], activation, options, tensors)
        out = units * (2 if cell.bidirectional else 1)
        self.shape = (self.shape[0], out) if module.sequences else (out,)


def from_torch(module, input_shape, path):
    """Writes `module` (a chain of layers) to `path` for Loom's `load`; `input_shape` is one sample's, as torch takes it."""
    layers = _layers(module)
    chain = _Chain(tuple(int(d) for d in input_shape), layers)
    for layer in layers:
        chain.add(layer)
    if chain.recurrent is not None:
        raise LoomExportError("the model ends in a recurrent layer's tuple: end it with loom_jupyter.torch_export.RecurrentOutput")
    chain.writer.write(path, chain.input_shape)
    return path
