"""A saved Loom model as a torch.nn.Module (`to_torch`). The module takes
inputs as Loom does (images `[batch, height, width, channels]`, sequences
`[batch, steps, features]`) and moves channels first around runs of
convolutions and pooling, where torch's layers want them."""

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from .geometry import output_shape, patch_indices, same_padding
from .saved import LoomExportError, SavedModel, kwta_inference, lista_arguments, saved_state

RECURRENT_ORDER = {"gru": [1, 0, 2]}  # Keras's gates z, r, h as torch's r, z, n


def _array(tensor):
    return tensor.detach().cpu().numpy()


def _tensor(array):
    return torch.from_numpy(np.ascontiguousarray(array, dtype=np.float32))


class Channels(nn.Module):
    """Moves the channels (features) axis: last to second (`first=True`) or back."""

    def __init__(self, first):
        super().__init__()
        self.first = first

    def forward(self, x):
        return x.movedim(-1, 1) if self.first else x.movedim(1, -1)


class Pad(nn.Module):
    """Keras's `same` padding, the extra after: (left, right, top, bottom) on NCHW, (left, right) on NCL."""

    def __init__(self, pads):
        super().__init__()
        self.pads = tuple(pads)

    def forward(self, x):
        return F.pad(x, self.pads)


class Reshape(nn.Module):
    def __init__(self, shape):
        super().__init__()
        self.shape = tuple(shape)

    def forward(self, x):
        return x.reshape((x.shape[0],) + self.shape)


class GlobalPool(nn.Module):
    """Each feature's mean or maximum over every position (channels last)."""

    def __init__(self, mode):
        super().__init__()
        self.mode = mode

    def forward(self, x):
        dims = tuple(range(1, x.dim() - 1))
        return x.mean(dim=dims) if self.mode == "avg" else x.amax(dim=dims)


class Threshold(nn.Module):
    """Loom's `threshold EPS`: keeps values with |z| ≥ EPS, zeroes the rest."""

    def __init__(self, epsilon):
        super().__init__()
        self.epsilon = float(epsilon)

    def forward(self, x):
        return torch.where(x.abs() >= self.epsilon, x, torch.zeros_like(x))

    def loom_tensors(self):
        return {}


class KWinners(nn.Module):
    """Loom's `kwta` at inference: each group keeps the values of its k largest boosted scores."""

    def __init__(self, k, group, boost):
        super().__init__()
        self.k, self.group = int(k), int(group)
        self.register_buffer("boost", _tensor(boost))

    def forward(self, x):
        values = x.reshape(-1, self.group)
        scores = (x * self.boost).reshape(-1, self.group)
        kth = scores.topk(self.k, dim=1).values[:, -1:]
        return torch.where(scores >= kth, values, torch.zeros_like(values)).reshape(x.shape)

    def loom_tensors(self):
        return {}


class Lista(nn.Module):
    """Loom's `lista T`: T ISTA steps on learned Wₑ, S and θ, with the fixed step η = 1/L."""

    def __init__(self, steps, step, encoder, mutual, threshold):
        super().__init__()
        self.steps, self.step = int(steps), float(step)
        self.encoder = nn.Parameter(_tensor(encoder))
        self.mutual = nn.Parameter(_tensor(mutual))
        self.threshold = nn.Parameter(_tensor(threshold))

    def forward(self, x):
        x = x.reshape(x.shape[0], -1)
        cut = self.threshold.clamp(min=0)

        def soft(v):
            return v.sign() * (v.abs() - cut).clamp(min=0)

        c = x @ self.encoder.T
        z = soft(self.step * c)
        for _ in range(self.steps - 1):
            z = soft(z - self.step * (z @ self.mutual - c))
        return z

    def loom_tensors(self):
        return {name: _array(getattr(self, name)) for name in ("encoder", "mutual", "threshold")}


class TiedLinear(nn.Module):
    """Loom's `dense … tied L`: L's kernel, transposed, with a bias of its own."""

    def __init__(self, lender, bias):
        super().__init__()
        self.lender = [lender]  # a reference, not a second registration of its weight
        self.bias = nn.Parameter(_tensor(bias))

    def forward(self, x):
        return x @ self.lender[0].weight + self.bias


class LocallyConnected(nn.Module):
    """Loom's `local2d` and `local1d`: a kernel of its own at every output position (channels last)."""

    def __init__(self, input_shape, kernel, stride, padding, weight, bias):
        super().__init__()
        self.sequence = len(input_shape) == 2
        height, width, channels = (input_shape[0], 1, input_shape[1]) if self.sequence else input_shape
        index, (self.ph, self.pw), (top, bottom, left, right) = patch_indices(height, width, channels, kernel, stride, padding)
        self.pads = (0, 0, left, right, top, bottom)
        self.dims = (height, width, channels)
        self.out_shape = tuple(bias.shape)
        self.register_buffer("index", torch.from_numpy(index))
        self.weight = nn.Parameter(_tensor(weight))
        self.bias = nn.Parameter(_tensor(bias.reshape(weight.shape[0], weight.shape[2])))

    def forward(self, x):
        n = x.shape[0]
        x = F.pad(x.reshape((n,) + self.dims), self.pads).reshape(n, -1)
        y = torch.einsum("npk,pkf->npf", x[:, self.index], self.weight) + self.bias
        return y.reshape((n,) + self.out_shape)

    def loom_tensors(self):
        return {"kernel": _array(self.weight), "bias": _array(self.bias).reshape(self.out_shape)}


class RecurrentOutput(nn.Module):
    """After torch's nn.RNN/LSTM/GRU (batch first): every step's output, or the
    last state (a bidirectional layer's backward half: its state after the whole sequence, at step 0)."""

    def __init__(self, sequences, bidirectional):
        super().__init__()
        self.sequences, self.bidirectional = sequences, bidirectional

    def forward(self, x):
        out = x[0]
        if self.sequences:
            return out
        if not self.bidirectional:
            return out[:, -1]
        half = out.shape[-1] // 2
        return torch.cat([out[:, -1, :half], out[:, 0, half:]], dim=-1)


class LoomModel(nn.Sequential):
    """A Loom model's layers in order; a shared layer appears once per use, the same module.

    torch's layers hold no penalty of their own, so Loom's `l2 λ` (weight decay on a kernel, λ·Σw² added
    to the loss) is kept here: `decayed` lists each decayed kernel once with its λ, and `parameter_groups()`
    gives torch's optimizers what trains as Loom does."""

    decayed = ()

    def parameter_groups(self):
        """Parameter groups for torch.optim.SGD, Adam or RMSprop: weight_decay 2λ on each decayed kernel (they
        add weight_decay·w to the gradient, the gradient of λ·Σw²), none on the rest. Not for AdamW, whose
        weight decay is decoupled from the gradient and so a different rule."""
        decayed = {id(p) for p, _ in self.decayed}
        rest = [p for p in self.parameters() if id(p) not in decayed]
        return [{"params": [p], "weight_decay": 2 * lam} for p, lam in self.decayed] + [{"params": rest, "weight_decay": 0.0}]

    def adamw_groups(self, weight_decay=0.004):
        """Parameter groups for torch.optim.AdamW as Loom's `optimizer adamw decay WD` decays: WD on every
        kernel (a parameter of two dimensions or more that is not a bias), none on biases and scales.
        torch shrinks by lr·WD before Adam's step as Keras and Loom do; its ε sits after the bias
        correction, so its steps differ from theirs in the last digits."""
        kernels = [p for name, p in self.named_parameters() if p.dim() >= 2 and not name.endswith("bias")]
        chosen = {id(p) for p in kernels}
        rest = [p for p in self.parameters() if id(p) not in chosen]
        return [{"params": kernels, "weight_decay": weight_decay}, {"params": rest, "weight_decay": 0.0}]


def _activation(name, channels_first):
    modules = {"relu": nn.ReLU, "tanh": nn.Tanh, "sigmoid": nn.Sigmoid}
    if name == "linear":
        return None
    if name == "softmax":
        return nn.Softmax(dim=1 if channels_first else -1)
    return modules[name]()


# Families torch runs channels first, and those it runs channels last; the rest run either way.
_FIRST = {"conv2d", "depthwise", "separable", "maxpool", "avgpool", "conv1d", "maxpool1d"}
_LAST = {"dense", "flatten", "reshape", "kwta", "layernorm", "rnn", "lstm", "gru", "globalpool", "local2d", "local1d", "lista"}


def to_torch(path):
    """The model Loom saved at `path` as a torch.nn.Module in eval mode, predicting what Loom predicts."""
    saved = SavedModel(path)
    modules, built, shape, first, decayed = [], {}, saved.input_shape, False, []
    for layer in saved.layers:
        wants_first = layer.kind in _FIRST or (layer.kind == "batchnorm" and len(shape) > 1)
        if layer.kind in _LAST or wants_first:
            if wants_first != first and len(shape) > 1:
                modules.append(Channels(first=wants_first))
                first = wants_first
        activation = layer.get("activation", "linear")
        if layer.share:
            core = built[layer.share]
        else:
            core = _torch_layer(saved, layer, shape, built)
            built[layer.name] = core
            if float(layer.get("l2", 0)) > 0 and not layer.get("tied") and not layer.get("hashed"):
                decayed += [(p, float(layer.get("l2"))) for p in _kernels(core)]
            for module in core:
                if hasattr(module, "loom_tensors"):
                    # Loom's own layers remember their line and state, so from_torch can write them back.
                    module.loom_line, module.loom_state = layer, saved_state(saved, layer)
        modules += core
        act = None if layer.kind in ("rnn", "lstm", "gru") else _activation(activation, first and len(shape) > 1)
        if act is not None:
            modules.append(act)
        shape = (saved.weight(layer, "encoder").shape[0],) if layer.kind == "lista" else output_shape(layer, shape)
    if first and len(shape) > 1:
        modules.append(Channels(first=False))
    model = LoomModel(*modules)
    model.decayed = tuple(decayed)
    model.eval()
    return model


def _kernels(modules):
    """The kernels `l2` decays among one layer's modules: every `weight…` parameter (a recurrent layer's
    weight_ih and weight_hh, a separable layer's two convolutions'), never a bias."""
    return [p for module in modules for name, p in module.named_parameters() if name.split(".")[-1].startswith("weight")]


def _torch_layer(saved, layer, shape, built):
    """The torch modules of one Loom layer without its activation, weights set."""
    kind, get, name = layer.kind, layer.get, layer.name
    w = lambda part: _tensor(saved.weight(layer, part))  # noqa: E731
    stride = int(get("stride") or 1)
    padding = get("padding", "valid")
    if kind == "dense":
        if get("tied"):
            return [TiedLinear(built[get("tied")][0], saved.weight(layer, "bias"))]
        kernel = saved.dense_kernel(layer, shape[-1])
        linear = nn.Linear(kernel.shape[0], kernel.shape[1])
        _load(linear, weight=_tensor(kernel.T), bias=w("bias"))
        return [linear]
    if kind in ("conv2d", "depthwise", "separable"):
        kh, kw = layer.window("kernel")
        pads = [Pad(same_padding(shape[1], kw, stride) + same_padding(shape[0], kh, stride))] if padding == "same" else []
        channels = shape[2]
        if kind == "conv2d":
            kernel = w("kernel")
            conv = nn.Conv2d(channels, kernel.shape[3], (kh, kw), stride=stride, groups=int(get("groups", 1)))
            _load(conv, weight=kernel.permute(3, 2, 0, 1), bias=w("bias"))
            return pads + [conv]
        key = "kernel" if kind == "depthwise" else "depthwise_kernel"
        depthwise = w(key)  # [kh, kw, C, M]: output channel c·M + m
        multiplier = depthwise.shape[3]
        conv = nn.Conv2d(channels, channels * multiplier, (kh, kw), stride=stride, groups=channels, bias=kind == "depthwise")
        _load(conv, weight=depthwise.reshape(kh, kw, channels * multiplier).permute(2, 0, 1).unsqueeze(1),
              bias=w("bias") if kind == "depthwise" else None)
        if kind == "depthwise":
            return pads + [conv]
        pointwise = w("pointwise_kernel")  # [1, 1, C·M, F]
        mix = nn.Conv2d(channels * multiplier, pointwise.shape[3], 1)
        _load(mix, weight=pointwise.permute(3, 2, 0, 1), bias=w("bias"))
        return pads + [conv, mix]
    if kind in ("local2d", "local1d"):
        kernel = layer.window("kernel") if kind == "local2d" else (int(get("kernel")), 1)
        return [LocallyConnected(shape, kernel, stride, padding, saved.weight(layer, "kernel"), saved.weight(layer, "bias"))]
    if kind in ("maxpool", "avgpool"):
        size = layer.window("size")
        step = int(get("stride") or size[0])
        return [(nn.MaxPool2d if kind == "maxpool" else nn.AvgPool2d)(size, stride=step)]
    if kind == "conv1d":
        k = int(get("kernel"))
        kernel = w("kernel")  # [K, features, filters]
        conv = nn.Conv1d(shape[1], kernel.shape[2], k, stride=stride)
        _load(conv, weight=kernel.permute(2, 1, 0), bias=w("bias"))
        return ([Pad(same_padding(shape[0], k, stride))] if padding == "same" else []) + [conv]
    if kind == "maxpool1d":
        size = int(get("size"))
        return [nn.MaxPool1d(size, stride=int(get("stride") or size))]
    if kind == "globalpool":
        return [GlobalPool(get("mode"))]
    if kind == "flatten":
        return [nn.Flatten()]
    if kind == "reshape":
        return [Reshape(output_shape(layer, shape))]
    if kind == "batchnorm":
        norm = (nn.BatchNorm1d if len(shape) < 3 else nn.BatchNorm2d)(shape[-1], eps=float(get("epsilon", 0.001)),
                                                                      momentum=1 - float(get("momentum", 0.99)))
        _load(norm, weight=w("gamma"), bias=w("beta"), running_mean=w("moving_mean"), running_var=w("moving_variance"))
        return [norm]
    if kind == "layernorm":
        norm = nn.LayerNorm(shape[-1], eps=float(get("epsilon", 0.001)))
        _load(norm, weight=w("gamma"), bias=w("beta"))
        return [norm]
    if kind == "dropout":
        return [nn.Dropout(float(get("rate")))]
    if kind in ("rnn", "lstm", "gru"):
        return _recurrent(saved, layer, shape)
    if kind == "threshold":
        return [Threshold(get("epsilon"))]
    if kind == "kwta":
        return [KWinners(*kwta_inference(saved, layer, shape))]
    if kind == "activity":
        return []  # a penalty while training; torch has no activity regularisers, and at inference it is nothing
    if kind == "lista":
        return [Lista(*lista_arguments(saved, layer))]
    raise LoomExportError(f"PyTorch has no equivalent of Loom's `{kind}` layer ({name})")


def _recurrent(saved, layer, shape):
    """torch's nn.RNN, nn.LSTM or nn.GRU with Loom's (Keras's) weights, and the output Loom's layer gives."""
    kind, activation = layer.kind, layer.get("activation")
    units, bidirectional = int(layer.get("units")), bool(layer.get("bidirectional"))
    if kind == "rnn" and activation in ("tanh", "relu"):
        cell = nn.RNN(shape[1], units, nonlinearity=activation, batch_first=True, bidirectional=bidirectional)
    elif kind != "rnn" and activation == "tanh":
        cell = (nn.LSTM if kind == "lstm" else nn.GRU)(shape[1], units, batch_first=True, bidirectional=bidirectional)
    else:
        raise LoomExportError(f"PyTorch's {kind.upper()} has no `{activation}` activation (layer {layer.name}); torch's "
                              f"{'RNN takes tanh or relu' if kind == 'rnn' else 'cell uses tanh'}")
    gates = {"rnn": 1, "lstm": 4, "gru": 3}[kind]
    order = RECURRENT_ORDER.get(kind, list(range(gates)))

    def reorder(matrix):  # columns in gate blocks of `units`, Keras's order → torch's rows
        blocks = matrix.reshape(matrix.shape[:-1] + (gates, units))[..., order, :]
        return blocks.reshape(matrix.shape)

    for direction, prefix in enumerate(["forward.", "backward."] if bidirectional else [""]):
        suffix = "_reverse" if direction else ""
        kernel, recurrent = (saved.weight(layer, prefix + part) for part in ("kernel", "recurrent_kernel"))
        bias = saved.weight(layer, prefix + "bias")
        input_bias, recurrent_bias = (bias[0], bias[1]) if bias.ndim == 2 else (bias, np.zeros_like(bias))
        _load(cell, **{f"weight_ih_l0{suffix}": _tensor(reorder(kernel).T), f"weight_hh_l0{suffix}": _tensor(reorder(recurrent).T),
                       f"bias_ih_l0{suffix}": _tensor(reorder(input_bias)), f"bias_hh_l0{suffix}": _tensor(reorder(recurrent_bias))})
    return [cell, RecurrentOutput(bool(layer.get("sequences")), bidirectional)]


def _load(module, **tensors):
    """Copies tensors into a module's parameters and buffers by name, checking shapes."""
    state = module.state_dict()
    for key, value in tensors.items():
        if value is None:
            continue
        if tuple(state[key].shape) != tuple(value.shape):
            raise LoomExportError(f"{key}: Loom's weight is {tuple(value.shape)}, torch's layer needs {tuple(state[key].shape)}")
        state[key] = value
    module.load_state_dict(state)
