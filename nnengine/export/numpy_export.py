"""`--format numpy`: a folder with `predict.py` and `weights.npz`, to run a model where only
NumPy is installed (`python predict.py X.npy Y.npy`).

predict.py holds one small function per operation the model uses (numpy_snippets) and a
`predict(inputs, w)` that follows the graph, one line per node, each variable named after its
node id. The converters live in CONVERTERS, keyed by layer type: a new layer is one entry.
"""
from __future__ import annotations

import keyword
import os
from collections.abc import Callable
from pathlib import Path

from ..errors import ExportError
from ..layers.activations import effective_alpha
from ..layers.conv import pair, window_geometry
from .numpy_snippets import FUNCTIONS, MAIN, NEEDS
from .onnx_export import NodeView

NumpyConverter = Callable[[NodeView, list[str], Callable[[str], str]], tuple[str, tuple[str, ...]]]
"""(layer, input variables, weight(name) -> its expression) -> (expression, functions used)."""

_RESERVED = frozenset({"np", "sys", "w", "inputs", "predict", "HERE", "INPUTS", "DTYPE",
                       "OUTPUT_SHAPE", "Path", *FUNCTIONS, "read_inputs", "predict_all", "main"})


def _num(value: float) -> str:
    return repr(float(value))


def _pads(n: NodeView, window, stride) -> tuple[int, int, int, int]:
    """(top, bottom, left, right), as the engine pads."""
    _, height, width = n.in_shapes[0]
    return window_geometry(height, width, window, stride, n.config["padding"])[0]


# --- converters, one per layer type ----------------------------------------------------------
def _dense(n, xs, w):
    bias = f", {w('b')}" if n.config["use_bias"] else ""
    return f"dense({xs[0]}, {w('W')}{bias})", ("dense",)


_ACTIVATIONS: dict[str, Callable[[str, dict], str]] = {
    "identity": lambda x, c: x,
    "linear": lambda x, c: f"linear({x}, {_num(c['slope'])}, {_num(c['intercept'])})",
    "step": lambda x, c: f"step({x}, {_num(c['threshold'])})",
    "stair": lambda x, c: f"stair({x}, {c['levels']})",
    "relu": lambda x, c: f"relu({x})",
    "leaky_relu": lambda x, c: f"leaky_relu({x}, {_num(effective_alpha(c))})",
    "elu": lambda x, c: f"elu({x}, {_num(effective_alpha(c))})",
    "softplus": lambda x, c: f"softplus({x})",
    "sigmoid": lambda x, c: f"sigmoid({x})",
    "tanh": lambda x, c: f"np.tanh({x})",
    "softmax": lambda x, c: f"softmax({x})",
}


def _activation(n, xs, w):
    function = n.config["function"]
    if function not in _ACTIVATIONS:
        raise ExportError(f"node '{n.id}': the activation '{function}' has no NumPy converter")
    uses = (function,) if function in FUNCTIONS else ()
    return _ACTIVATIONS[function](xs[0], n.config), uses


def _prelu(n, xs, w):
    return f"prelu({xs[0]}, {w('alpha')})", ("prelu",)


def _identity_at_inference(n, xs, w):
    return xs[0], ()


def _flatten(n, xs, w):
    return f"{xs[0]}.reshape(len({xs[0]}), -1)", ()


def _reshape(n, xs, w):
    return f"{xs[0]}.reshape((len({xs[0]}), *{tuple(n.config['shape'])}))", ()


def _conv(n, xs, w):
    c = n.config
    pads = _pads(n, c["kernel_size"], c["stride"])
    bias = w("b") if c["use_bias"] else "None"
    return (f"conv2d({xs[0]}, {w('W')}, {bias}, stride={pair(c['stride'])}, pads={pads})",
            ("conv2d",))


def _pool(kind: str):
    def convert(n, xs, w):
        c = n.config
        size, stride = c["pool_size"], c["stride"] or c["pool_size"]
        pads = _pads(n, size, stride)
        window = f"{pair(size)}, {pair(stride)}, {pads}"
        if kind == "max":
            return f"max_pool2d({xs[0]}, {window})", ("max_pool2d",)
        count = c["padding"] != "same"  # an int pad counts its zeros in the mean
        return f"avg_pool2d({xs[0]}, {window}, count_padding={count})", ("avg_pool2d",)
    return convert


def _global_avg_pool(n, xs, w):
    return f"global_avg_pool2d({xs[0]})", ("global_avg_pool2d",)


def _global_avg_pool_1d(n, xs, w):
    return f"{xs[0]}.mean(axis=1)", ()


def _batch_norm(n, xs, w):
    names = ", ".join(w(k) for k in ("gamma", "beta", "running_mean", "running_var"))
    return f"batch_norm({xs[0]}, {names}, {_num(n.config['epsilon'])})", ("batch_norm",)


def _add(n, xs, w):
    return " + ".join(xs), ()


def _concatenate(n, xs, w):
    return f"np.concatenate([{', '.join(xs)}], axis={n.config['axis']})", ()


def _dot(n, xs, w):
    return f"np.sum({xs[0]} * {xs[1]}, axis=1, keepdims=True)", ()


def _embedding(n, xs, w):
    return f"{w('E')}[{xs[0]}]", ()


def _recurrent(function: str):
    def convert(n, xs, w):
        args = ", ".join(w(k) for k in ("W", "U", "b"))
        sequences = n.config["return_sequences"]
        return f"{function}({xs[0]}, {args}, return_sequences={sequences})", (function,)
    return convert


def _rbf(n, xs, w):
    return f"rbf({xs[0]}, {w('centers')}, {w('beta')})", ("rbf",)


CONVERTERS: dict[str, NumpyConverter] = {
    "Dense": _dense,
    "Activation": _activation,
    "PReLU": _prelu,
    "Dropout": _identity_at_inference,
    "GaussianNoise": _identity_at_inference,
    "Flatten": _flatten,
    "Reshape": _reshape,
    "Conv2D": _conv,
    "MaxPool2D": _pool("max"),
    "AvgPool2D": _pool("avg"),
    "GlobalAvgPool2D": _global_avg_pool,
    "GlobalAvgPool1D": _global_avg_pool_1d,
    "ActivityRegularization": _identity_at_inference,
    "Sampling": _identity_at_inference,   # z = mean at inference (input 0)
    "BatchNorm": _batch_norm,
    "Add": _add,
    "Concatenate": _concatenate,
    "Dot": _dot,
    "Embedding": _embedding,
    "SimpleRNN": _recurrent("simple_rnn"),
    "LSTM": _recurrent("lstm"),
    "RBF": _rbf,
}
"""Layer type -> converter; Input is handled by `numpy_source` (standardization, if any)."""


# --- the file --------------------------------------------------------------------------------
def export_numpy(model, out_dir: str | os.PathLike) -> None:
    """Write `out_dir`/predict.py and `out_dir`/weights.npz (the folder is created)."""
    from ..fileio import write_atomic
    from ..weights_io import save_weights

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    write_atomic(out / "predict.py", numpy_source(model).encode("utf-8"))
    save_weights(model, out / "weights.npz")


def numpy_source(model) -> str:
    graph = model.graph
    names = _variable_names(graph.node_ids())
    body: list[str] = []
    used: set[str] = set()
    for step in model.steps:
        node_id, spec = step.node_id, step.layer.spec
        name = names[node_id]

        def weight(wname: str, node_id: str = node_id) -> str:
            return f'w["{node_id}/{wname}"]'

        if spec.is_input:
            expr = f'inputs["{node_id}"]'
            if "mean" in step.weights:
                expr = f"({expr} - {weight('mean')}) / {weight('std')}"
            body.append(f"{name} = {expr}")
            continue
        converter = CONVERTERS.get(spec.type)
        if converter is None:
            raise ExportError(f"node '{node_id}': layer type {spec.type} cannot be exported to "
                              "NumPy (no converter for it)")
        view = NodeView(node_id, spec.type, step.layer.config, step.weights, [],
                        [model.shapes[s] for _, s in graph.inputs_of(node_id)],
                        model.shapes[node_id])
        expr, functions = converter(view, [names[s] for _, s in graph.inputs_of(node_id)],
                                    weight)
        used.update(functions)
        body.append(f"{name} = {expr}  # {spec.type}")
    return _render(model, names, body, used)


def _variable_names(node_ids: list[str]) -> dict[str, str]:
    names: dict[str, str] = {}
    for node_id in node_ids:
        name = node_id
        while keyword.iskeyword(name) or name in _RESERVED or name in names.values():
            name += "_"
        names[node_id] = name
    return names


def _render(model, names: dict[str, str], body: list[str], used: set[str]) -> str:
    graph = model.graph
    for function in list(used):
        used.update(NEEDS.get(function, ()))
    inputs = {i: (tuple(model.shapes[i]), str(model.input_dtype(i))) for i in model.input_ids}
    title = repr(graph.name).replace('"', '\\"')  # it goes inside a docstring
    lines = [f'"""NumPy-only predictor for the nnengine graph {title}, written by nnengine.',
             "",
             "    python predict.py X.npy Y.npy     (X.npz keyed by input id for several inputs)",
             "",
             "It needs nothing but NumPy: weights.npz beside it holds the weights, keyed",
             '"node id/weight name"; `predict` runs the graph one node per line.', '"""',
             "import sys", "from pathlib import Path", "", "import numpy as np", "",
             "HERE = Path(__file__).resolve().parent",
             f"INPUTS = {inputs!r}  # input id -> (sample shape, dtype)",
             f"OUTPUT_SHAPE = {tuple(model.output_shape)!r}",
             f"DTYPE = {str(model.dtype)!r}", ""]
    for function in FUNCTIONS:
        if function in used:
            lines += ["", FUNCTIONS[function].strip("\n"), ""]
    lines += ["", "def predict(inputs, w):",
              '    """inputs: input id -> batch of samples; w: the arrays of weights.npz.',
              f'    Returns the output of node {model.output_id!r}, in inference mode."""']
    lines += [f"    {line}" for line in body]
    lines += [f"    return {names[model.output_id]}", "", "", MAIN.strip("\n")]
    return "\n".join(lines) + "\n"
