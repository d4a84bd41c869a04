"""Small graph builders shared by the engine tests."""
from __future__ import annotations

import nnengine as nn


def sequential(input_shape, layers, name="test", input_dtype=None) -> nn.Graph:
    """A chain Input -> layers[0] -> ...; each layer is (type, params) or (id, type, params)."""
    g = nn.Graph(name)
    params = {"shape": list(input_shape)}
    if input_dtype:
        params["dtype"] = input_dtype
    g.add_node("input", "Input", params)
    prev = "input"
    for i, layer in enumerate(layers):
        node_id, type_name, p = layer if len(layer) == 3 else (f"n{i}", *layer)
        g.add_node(node_id, type_name, p)
        g.add_edge(prev, node_id)
        prev = node_id
    return g


def mlp(n_in, hidden, n_out, act="tanh", out="softmax"):
    layers = []
    for h in hidden:
        layers += [("Dense", {"units": h}), ("Activation", {"function": act})]
    layers += [("Dense", {"units": n_out}), ("Activation", {"function": out})]
    return sequential([n_in], layers)
