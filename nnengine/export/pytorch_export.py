"""Write a model as readable, standalone PyTorch source: one `nn.Module` whose submodules are
named after the node ids, a `forward` that follows the graph, and `load_npz_weights` /
`save_npz_weights` to move nnengine's weight files in and out.

The converters live in CONVERTERS, keyed by layer type. Writing the file needs no torch;
running it needs torch and numpy only.
"""
from __future__ import annotations

import keyword
import os
import re
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from ..errors import ExportError
from ..layers.activations import effective_alpha
from ..layers.conv import window_geometry
from .onnx_export import NodeView
from .pytorch_snippets import HELPERS, WEIGHT_FUNCTIONS

_MODULE_ATTRS = frozenset([
    "T_destination", "add_module", "apply", "bfloat16", "buffers", "call_super_init", "children",
    "compile", "cpu", "cuda", "double", "dump_patches", "eval", "extra_repr", "float", "forward",
    "get_buffer", "get_extra_state", "get_parameter", "get_submodule", "half", "ipu",
    "load_state_dict", "modules", "mtia", "named_buffers", "named_children", "named_modules",
    "named_parameters", "parameters", "register_backward_hook", "register_buffer",
    "register_forward_hook", "register_forward_pre_hook", "register_full_backward_hook",
    "register_full_backward_pre_hook", "register_load_state_dict_post_hook",
    "register_load_state_dict_pre_hook", "register_module", "register_parameter",
    "register_state_dict_post_hook", "register_state_dict_pre_hook", "requires_grad_",
    "set_extra_state", "set_submodule", "share_memory", "state_dict", "to", "to_empty", "train",
    "training", "type", "xpu", "zero_grad", "self", "torch", "nn", "F", "np", "sys", "logits",
    "WEIGHTS",
])
"""Names a node id cannot take as an attribute or local (nn.Module's members, the file's
imports): such ids get a trailing underscore."""


@dataclass
class TorchLayer:
    """One node in PyTorch: `module` is built in __init__ as self.<name> (None: no module);
    `expr` computes the node's value in forward; `weights` maps weight names to
    (attribute path under self.<name>, how the layout changes)."""

    module: str | None
    expr: str
    weights: dict[str, tuple[str, str]] = field(default_factory=dict)
    helpers: tuple[str, ...] = ()


TorchConverter = Callable[[NodeView, str, list[str]], TorchLayer]


def _num(value: float) -> str:
    return repr(round(float(value), 12))


def _call(module: str, name: str, x: str, **kw) -> TorchLayer:
    return TorchLayer(module, f"self.{name}({x})", **kw)


# --- converters, one per layer type ----------------------------------------------------------
def _dense(n: NodeView, name: str, xs: list[str]) -> TorchLayer:
    weights = {"W": ("weight", "transpose")}
    if n.config["use_bias"]:
        weights["b"] = ("bias", "copy")
    return _call(f"nn.Linear({n.in_shapes[0][0]}, {n.config['units']}, "
                 f"bias={n.config['use_bias']})", name, xs[0], weights=weights)


_ACTIVATIONS: dict[str, Callable[[dict], tuple[str, tuple[str, ...]]]] = {
    "identity": lambda c: ("nn.Identity()", ()),
    "linear": lambda c: (f"Affine({_num(c['slope'])}, {_num(c['intercept'])})", ("Affine",)),
    "step": lambda c: (f"Step({_num(c['threshold'])})", ("Step",)),
    "stair": lambda c: (f"Stair({c['levels']})", ("Stair",)),
    "relu": lambda c: ("nn.ReLU()", ()),
    "leaky_relu": lambda c: (f"nn.LeakyReLU({_num(effective_alpha(c))})", ()),
    "elu": lambda c: (f"nn.ELU({_num(effective_alpha(c))})", ()),
    "softplus": lambda c: ("nn.Softplus()", ()),
    "sigmoid": lambda c: ("nn.Sigmoid()", ()),
    "tanh": lambda c: ("nn.Tanh()", ()),
    "softmax": lambda c: ("nn.Softmax(dim=-1)", ()),
}
"""Activation function -> (module constructor, helper classes it needs)."""


def _activation(n: NodeView, name: str, xs: list[str]) -> TorchLayer:
    function = n.config["function"]
    if function not in _ACTIVATIONS:
        raise ExportError(f"node '{n.id}': the activation '{function}' has no PyTorch "
                          "converter")
    module, helpers = _ACTIVATIONS[function](n.config)
    return _call(module, name, xs[0], helpers=helpers)


def _prelu(n: NodeView, name: str, xs: list[str]) -> TorchLayer:
    count = 1 if n.config["shared"] else n.in_shapes[0][0]
    return _call(f"nn.PReLU({count}, init={_num(n.config['init_alpha'])})", name, xs[0],
                 weights={"alpha": ("weight", "copy")})


def _dropout(n: NodeView, name: str, xs: list[str]) -> TorchLayer:
    return _call(f"nn.Dropout({_num(n.config['rate'])})", name, xs[0])


def _noise(n: NodeView, name: str, xs: list[str]) -> TorchLayer:
    return _call(f"GaussianNoise({_num(n.config['stddev'])})", name, xs[0],
                 helpers=("GaussianNoise",))


def _flatten(n: NodeView, name: str, xs: list[str]) -> TorchLayer:
    return _call("nn.Flatten()", name, xs[0])


def _reshape(n: NodeView, name: str, xs: list[str]) -> TorchLayer:
    shape = tuple(n.config["shape"])
    unflatten = f"nn.Unflatten(1, {shape})"
    if len(n.in_shapes[0]) != 1:
        unflatten = f"nn.Sequential(nn.Flatten(), {unflatten})"
    return _call(unflatten, name, xs[0])


def _size(value: int | list[int]) -> str:
    """A window parameter as PyTorch takes it: 3 or (2, 1)."""
    return str(tuple(value)) if isinstance(value, (list, tuple)) else str(value)


def _pads(n: NodeView, window, stride) -> tuple[int, int, int, int]:
    """(top, bottom, left, right), as the engine pads."""
    _, height, width = n.in_shapes[0]
    return window_geometry(height, width, window, stride, n.config["padding"])[0]


def _padding_arg(pads: tuple[int, int, int, int]) -> str:
    top, _, left, _ = pads
    return str(top) if top == left else f"({top}, {left})"


def _symmetric(pads: tuple[int, int, int, int]) -> bool:
    return pads[0] == pads[1] and pads[2] == pads[3]


def _f_pad(x: str, pads: tuple[int, int, int, int], value: str = "") -> str:
    top, bottom, left, right = pads
    return f"F.pad({x}, ({left}, {right}, {top}, {bottom}){value})"


def _conv(n: NodeView, name: str, xs: list[str]) -> TorchLayer:
    c = n.config
    k, s = c["kernel_size"], c["stride"]
    pads = _pads(n, k, s)
    weights = {"W": ("weight", "copy")}
    if c["use_bias"]:
        weights["b"] = ("bias", "copy")
    head = f"nn.Conv2d({n.in_shapes[0][0]}, {c['filters']}, {_size(k)}, stride={_size(s)}"
    tail = f", bias={c['use_bias']})"
    if _symmetric(pads):
        return _call(f"{head}, padding={_padding_arg(pads)}{tail}", name, xs[0],
                     weights=weights)
    # "same" with an even kernel: the extra row/column goes at the bottom/right.
    return TorchLayer(f"{head}{tail}", f"self.{name}({_f_pad(xs[0], pads)})", weights)


def _max_pool(n: NodeView, name: str, xs: list[str]) -> TorchLayer:
    p = n.config["pool_size"]
    s = n.config["stride"] or p
    pads = _pads(n, p, s)
    window = f"{_size(p)}, stride={_size(s)}"
    if _symmetric(pads):
        return _call(f"nn.MaxPool2d({window}, padding={_padding_arg(pads)})", name, xs[0])
    return TorchLayer(f"nn.MaxPool2d({window})",
                      f"self.{name}({_f_pad(xs[0], pads, ', value=-torch.inf')})")


def _avg_pool(n: NodeView, name: str, xs: list[str]) -> TorchLayer:
    p = n.config["pool_size"]
    s = n.config["stride"] or p
    pads = _pads(n, p, s)
    window = f"{_size(p)}, stride={_size(s)}"
    if not any(pads):
        return _call(f"nn.AvgPool2d({window})", name, xs[0])
    if n.config["padding"] != "same":  # an int pad counts its zeros in the mean
        return _call(f"nn.AvgPool2d({window}, padding={_padding_arg(pads)}, "
                     "count_include_pad=True)", name, xs[0])
    if _symmetric(pads):
        return _call(f"nn.AvgPool2d({window}, padding={_padding_arg(pads)}, "
                     "count_include_pad=False)", name, xs[0])
    top, bottom, left, right = pads
    return _call(f"AvgPool2dSame({_size(p)}, {_size(s)}, ({left}, {right}, {top}, {bottom}))",
                 name, xs[0], helpers=("AvgPool2dSame",))


def _global_avg_pool(n: NodeView, name: str, xs: list[str]) -> TorchLayer:
    return _call("nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten())", name, xs[0])


def _global_avg_pool_1d(n: NodeView, name: str, xs: list[str]) -> TorchLayer:
    return TorchLayer(None, f"{xs[0]}.mean(dim=1)")


def _activity_regularization(n: NodeView, name: str, xs: list[str]) -> TorchLayer:
    module = f"ActivityRegularization({_num(n.config['l1'])}, {_num(n.config['l2'])})"
    return _call(module, name, xs[0], helpers=("ActivityRegularization",))


def _sampling(n: NodeView, name: str, xs: list[str]) -> TorchLayer:
    return TorchLayer(f"Sampling({_num(n.config['beta'])})", f"self.{name}({xs[0]}, {xs[1]})",
                      helpers=("Sampling",))


def _batch_norm(n: NodeView, name: str, xs: list[str]) -> TorchLayer:
    rank = len(n.in_shapes[0])
    kind = {1: "1d", 2: "1d", 3: "2d", 4: "3d"}.get(rank)
    if kind is None:
        raise ExportError(f"node '{n.id}': PyTorch has no BatchNorm for samples of rank {rank}")
    c = n.config
    # PyTorch's momentum is the share of the new batch: 1 − nnengine's momentum.
    module = (f"nn.BatchNorm{kind}({n.in_shapes[0][0]}, eps={_num(c['epsilon'])}, "
              f"momentum={_num(1 - c['momentum'])})")
    return _call(module, name, xs[0], weights={
        "gamma": ("weight", "copy"), "beta": ("bias", "copy"),
        "running_mean": ("running_mean", "copy"), "running_var": ("running_var", "copy")})


def _add(n: NodeView, name: str, xs: list[str]) -> TorchLayer:
    return TorchLayer(None, " + ".join(xs))


def _concatenate(n: NodeView, name: str, xs: list[str]) -> TorchLayer:
    return TorchLayer(None, f"torch.cat([{', '.join(xs)}], dim={n.config['axis']})")


def _dot(n: NodeView, name: str, xs: list[str]) -> TorchLayer:
    return TorchLayer(None, f"({xs[0]} * {xs[1]}).sum(dim=1, keepdim=True)")


def _embedding(n: NodeView, name: str, xs: list[str]) -> TorchLayer:
    return _call(f"nn.Embedding({n.config['vocab_size']}, {n.config['dim']})", name, xs[0],
                 weights={"E": ("weight", "copy")})


def _recurrent(kind: str) -> TorchConverter:
    def convert(n: NodeView, name: str, xs: list[str]) -> TorchLayer:
        features, units = n.in_shapes[0][1], n.config["units"]
        # The gate order i, f, g, o is PyTorch's too; only the layouts differ.
        weights = {"W": ("weight_ih_l0", "transpose"), "U": ("weight_hh_l0", "transpose"),
                   "b": ("", "rnn_bias")}
        last = "" if n.config["return_sequences"] else "[:, -1]"
        return TorchLayer(f"nn.{kind}({features}, {units}, batch_first=True)",
                          f"self.{name}({xs[0]})[0]{last}", weights)
    return convert


def _rbf(n: NodeView, name: str, xs: list[str]) -> TorchLayer:
    return _call(f"RBF({n.in_shapes[0][0]}, {n.config['units']})", name, xs[0],
                 weights={"centers": ("centers", "copy"), "beta": ("beta", "copy")},
                 helpers=("RBF",))


CONVERTERS: dict[str, TorchConverter] = {
    "Dense": _dense,
    "Activation": _activation,
    "PReLU": _prelu,
    "Dropout": _dropout,
    "GaussianNoise": _noise,
    "Flatten": _flatten,
    "Reshape": _reshape,
    "Conv2D": _conv,
    "MaxPool2D": _max_pool,
    "AvgPool2D": _avg_pool,
    "GlobalAvgPool2D": _global_avg_pool,
    "GlobalAvgPool1D": _global_avg_pool_1d,
    "ActivityRegularization": _activity_regularization,
    "Sampling": _sampling,
    "BatchNorm": _batch_norm,
    "Add": _add,
    "Concatenate": _concatenate,
    "Dot": _dot,
    "Embedding": _embedding,
    "SimpleRNN": _recurrent("RNN"),
    "LSTM": _recurrent("LSTM"),
    "RBF": _rbf,
}
"""Layer type -> converter; Input is handled by `pytorch_source` (a forward argument)."""


# --- the file --------------------------------------------------------------------------------
def export_pytorch(model, path: str | os.PathLike) -> None:
    """Write `model` as a standalone PyTorch module source file, atomically."""
    from ..fileio import write_atomic

    write_atomic(path, pytorch_source(model).encode("utf-8"))


def pytorch_source(model) -> str:
    return _render(model, *_convert(model))


@dataclass
class TorchWeight:
    """Where an nnengine weight lives in the generated module: `key` ("node/name"),
    `target` (attribute path under the module), `how` its layout changes."""

    key: str
    target: str
    how: str

    @property
    def tensor(self) -> str:
        """The module tensor that holds it (an RNN's one bias is bias_ih_l0 there)."""
        return f"{self.target}.bias_ih_l0" if self.how == "rnn_bias" else self.target


def torch_weights(model) -> list[TorchWeight]:
    """Every weight of `model` and the tensor of the generated module that holds it."""
    return [TorchWeight(*w) for w in _convert(model)[3]]


def module_class_name(model) -> str:
    """The name of the generated module's class."""
    return _class_name(model.graph.name)


def _convert(model):
    """(names, __init__ lines, forward lines, weights, helper names) of the module."""
    graph = model.graph
    names = _python_names(graph.node_ids())
    init: list[str] = []
    body: list[str] = []
    weights: list[tuple[str, str, str]] = []
    helpers: set[str] = set()
    for step in model.steps:
        node_id, spec = step.node_id, step.layer.spec
        name = names[node_id]
        view = NodeView(node_id, spec.type, step.layer.config, step.weights,
                        [], [model.shapes[s] for _, s in graph.inputs_of(node_id)],
                        model.shapes[node_id])
        if spec.is_input:
            if "mean" not in step.weights:
                continue
            layer = _call(f"Standardize({tuple(model.shapes[node_id])})", name, name,
                          weights={"mean": ("mean", "copy"), "std": ("std", "copy")},
                          helpers=("Standardize",))
        else:
            converter = CONVERTERS.get(spec.type)
            if converter is None:
                raise ExportError(f"node '{node_id}': layer type {spec.type} cannot be "
                                  "exported to PyTorch (no converter for it)")
            layer = converter(view, name, [names[s] for _, s in graph.inputs_of(node_id)])
        if layer.module is not None:
            init.append(f"self.{name} = {layer.module}")
        body.append(f"{name} = {layer.expr}")
        helpers.update(layer.helpers)
        for wname, (attr, how) in layer.weights.items():
            if f"{node_id}/{wname}" in model.weights:
                target = f"{name}.{attr}" if attr else name
                weights.append((f"{node_id}/{wname}", target, how))
    return names, init, body, weights, helpers


def _python_names(node_ids: list[str]) -> dict[str, str]:
    names: dict[str, str] = {}
    used: set[str] = set()
    for node_id in node_ids:
        name = node_id
        if keyword.iskeyword(name) or name in _MODULE_ATTRS or name.startswith("_"):
            name = f"{name.lstrip('_') or 'node'}_"
        while name in used or name in _MODULE_ATTRS or keyword.iskeyword(name):
            name += "_"
        used.add(name)
        names[node_id] = name
    return names


def _class_name(graph_name: str) -> str:
    words = re.findall(r"[A-Za-z0-9]+", graph_name)
    name = "".join(w[:1].upper() + w[1:] for w in words)
    if not name or not name[0].isalpha():
        name = f"Net{name}"
    return f"{name}Net" if name in HELPERS or keyword.iskeyword(name) else name


def _output_activation(model) -> str | None:
    layer = model.steps[-1].layer
    if layer.spec.type == "Activation" and layer.config["function"] in ("softmax", "sigmoid"):
        return layer.config["function"]
    return None


def _render(model, names, init, body, weights, helpers) -> str:
    graph = model.graph
    cls = _class_name(graph.name)
    args = [names[i] for i in model.input_ids]
    squash = _output_activation(model)
    out = names[model.output_id]
    name = repr(graph.name).replace('"', '\\"')  # a name holding """ must not end a docstring
    lines = [f'"""PyTorch version of the nnengine graph {name}, written by nnengine.',
             "", *_usage(model, cls, squash), '"""',
             "from __future__ import annotations", "", "import sys", "",
             "import numpy as np", "import torch"]
    if any("F.pad(" in line for line in body) or "AvgPool2dSame" in helpers:
        lines.append("import torch.nn.functional as F")
    lines += ["from torch import nn", ""]
    for helper in HELPERS:
        if helper in helpers:
            lines += [HELPERS[helper].rstrip("\n"), ""]
    lines += ["", f"class {cls}(nn.Module):",
              f'    """Layers are named after the node ids of {name}."""', "",
              "    def __init__(self):", "        super().__init__()"]
    lines += [f"        {line}" for line in init] or ["        pass"]
    signature = ", ".join(["self", *args] + (["logits: bool = False"] if squash else []))
    lines += ["", f"    def forward({signature}):"]
    if squash:
        pre = names[model.graph.inputs_of(model.output_id)[0][1]]
        lines.append(f'        """Returns what nnengine\'s output node {model.output_id!r} '
                     f'returns ({squash} outputs);')
        lines.append(f'        logits=True stops before that {squash}, for a loss that '
                     'applies it itself."""')
    lines += [f"        {line}" for line in body[:-1]]
    if squash:  # the output node is the last line
        lines += ["        if logits:", f"            return {pre}"]
    lines += [f"        {line}" for line in body[-1:]]
    lines += [f"        return {out}", "", ""]
    lines.append("WEIGHTS = [  # (nnengine weight key, tensor in the module, layout change)")
    lines += [f"    ({k!r}, {t!r}, {h!r})," for k, t, h in weights]
    lines += ["]", "", "", WEIGHT_FUNCTIONS.strip("\n"), "", ""]
    lines += _main(model, cls, args)
    return "\n".join(lines) + "\n"


def _usage(model, cls: str, squash: str | None) -> list[str]:
    """Docstring lines on training on in PyTorch, for the graph's loss."""
    training = model.graph.training or {}
    loss = training.get("loss", "cross_entropy")
    calls = "model(x, logits=True)" if squash else "model(x)"
    criteria = {
        ("cross_entropy", "softmax"): "nn.CrossEntropyLoss()  # on logits: the fused softmax",
        ("binary_cross_entropy", "sigmoid"): "nn.BCEWithLogitsLoss()  # on logits",
        ("binary_cross_entropy", None): "nn.BCELoss()",
        ("mse", None): "nn.MSELoss()",
        ("mae", None): "nn.L1Loss()",
        ("hinge", None): "nn.MultiMarginLoss()  # averages over classes; nnengine sums",
    }
    criterion = criteria.get((loss, squash)) or criteria.get((loss, None))
    if criterion is None:
        criterion = "nn.NLLLoss()  # on torch.log(model(x)): probabilities in, as nnengine"
        calls = "torch.log(model(x))"
    elif squash and (loss, squash) not in criteria:
        calls = "model(x)"
    lr = (training.get("optimizer") or {}).get("learning_rate", 0.001)
    return [
        "Standalone: it needs only torch and numpy. Train on where nnengine cannot (GPUs,",
        "torch.distributed), starting from the weights trained in nnengine:",
        "",
        f"    model = {cls}()",
        '    load_npz_weights(model, "weights.npz")',
        f"    optimizer = torch.optim.Adam(model.parameters(), lr={lr})",
        f"    loss_fn = {criterion}",
        "    for x, y in loader:",
        "        optimizer.zero_grad()",
        f"        loss_fn({calls}, y).backward()",
        "        optimizer.step()",
        '    save_npz_weights(model, "weights_torch.npz")  # back into nnengine',
        "",
        "Differences to know: PyTorch's BatchNorm updates its running variance with the",
        "unbiased batch variance (nnengine: biased); the l2 option of nnengine adds",
        "l2·Σw² over W, U and E only (weight_decay=2·l2 on those parameters matches it).",
    ]


def _main(model, cls: str, args: list[str]) -> list[str]:
    samples = []
    for input_id in model.input_ids:
        shape = ", ".join(str(d) for d in (4, *model.shapes[input_id]))
        if model.input_dtype(input_id) == np.int64:
            samples.append(f"torch.zeros({shape}, dtype=torch.long)")
        else:
            samples.append(f"torch.randn({shape})")
    return [
        'if __name__ == "__main__":',
        "    # python this_file.py [weights.npz]: build, load the weights, run a random batch.",
        f"    model = {cls}()",
        "    if len(sys.argv) > 1:",
        "        load_npz_weights(model, sys.argv[1])",
        "    model.eval()",
        "    with torch.no_grad():",
        f"        y = model({', '.join(samples)})",
        ('    print(f"output {tuple(y.shape)}, '
         '{sum(p.numel() for p in model.parameters())} parameters")'),
    ]
