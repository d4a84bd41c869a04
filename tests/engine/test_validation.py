"""Every problem a user can draw is reported, with its message and node id, all at once."""
from __future__ import annotations

import pytest

import nnengine as nn
from tests.engine.builders import sequential


def problems(graph):
    return [(p.node_id, p.code, p.message) for p in nn.analyze(graph).problems]


def only(graph, node_id, code, *words):
    found = [p for p in problems(graph) if p[0] == node_id and p[1] == code]
    assert found, problems(graph)
    for word in words:
        assert word in found[0][2], found[0][2]
    return found[0][2]


def test_valid_graph_has_no_problems_and_inferred_shapes():
    g = sequential([64], [("Dense", {"units": 32}), ("Activation", {"function": "relu"}),
                          ("Dense", {"units": 10})])
    a = nn.analyze(g)
    assert a.ok
    assert a.shapes == {"input": (64,), "n0": (32,), "n1": (32,), "n2": (10,)}
    assert a.param_count("n0") == 64 * 32 + 32 and a.total_params == 2080 + 330
    assert a.output_id == "n2"


def test_unknown_layer_type():
    g = sequential([4], [("Dense", {"units": 2}), ("Dens", {"units": 2})])
    only(g, "n1", "unknown_type", "Dens")


def test_unknown_parameter_names_the_key():
    g = sequential([4], [("Dense", {"units": 2, "unit": 3})])
    only(g, "n0", "bad_param", "unknown parameter 'unit'")


@pytest.mark.parametrize("params, words", [
    ({"units": 0}, ["units", "at least 1", "0"]),
    ({"units": "ten"}, ["units", "integer", "ten"]),
    ({"units": 2, "use_bias": "yes"}, ["use_bias", "true or false"]),
    ({"units": 2, "init": "magic"}, ["init", "one of"]),
    ({}, ["units", "required"]),
])
def test_bad_parameter_values(params, words):
    only(sequential([4], [("Dense", params)]), "n0", "bad_param", *words)


def test_bad_activation_value_and_range():
    g = sequential([4], [("Activation", {"function": "swish"})])
    only(g, "n0", "bad_param", "function", "swish")
    g = sequential([4], [("Dropout", {"rate": 1.5})])
    only(g, "n0", "bad_param", "rate")


def test_duplicate_and_invalid_ids_and_dangling_edges_are_collected_together():
    data = {"nodes": [{"id": "a", "type": "Input", "params": {"shape": [2]}},
                      {"id": "a", "type": "Dense", "params": {"units": 1}},
                      {"id": "9x", "type": "Dense"}],
            "edges": [{"source": "a", "target": "ghost"}]}
    with pytest.raises(nn.GraphError) as e:
        nn.Graph.from_dict(data)
    codes = {p.code for p in e.value.problems}
    assert codes == {"duplicate_id", "bad_id", "dangling_edge"}
    assert "ghost" in str([p.message for p in e.value.problems])


def test_cycle_names_its_nodes():
    g = sequential([4], [("Dense", {"units": 4}), ("Activation", {"function": "relu"})])
    g.add_node("add", "Add")
    g.add_edge("n1", "add", 0)
    g.add_edge("input", "add", 1)
    g.remove_edge("input", "n0")
    g.add_edge("add", "n0")
    msg = only(g, "n0", "cycle", "cycle")
    assert "n1" in msg and "add" in msg


def test_missing_input_on_a_single_input_node():
    g = sequential([4], [("Dense", {"units": 2})])
    g.add_node("lonely", "Activation", {"function": "relu"})
    only(g, "lonely", "missing_input", "no input")


def test_missing_port_on_a_merge_node():
    g = sequential([4], [("Dense", {"units": 4})])
    g.add_node("add", "Add")
    g.add_edge("n0", "add", 0)
    only(g, "add", "missing_input", "at least 2", "port 1")


def test_extra_inputs_are_reported():
    g = sequential([4], [("Dense", {"units": 4})])
    g.add_node("in2", "Input", {"shape": [4]})
    g.add_node("dot", "Dot")
    g.add_edge("n0", "dot", 0)
    g.add_edge("in2", "dot", 2)
    only(g, "dot", "extra_input", "2 input ports", "port 2")
    g2 = sequential([4], [("Dense", {"units": 4})])
    g2.add_node("in2", "Input", {"shape": [4]})
    g2.add_edge("n0", "in2")
    only(g2, "in2", "extra_input", "Input node takes no incoming edges")


def test_two_outputs_flag_the_dangling_branch():
    g = sequential([4], [("Dense", {"units": 4}), ("Dense", {"units": 2})])
    g.add_node("side", "Dense", {"units": 3})
    g.add_edge("input", "side")
    only(g, "side", "dangling", "n1", "output")


def test_no_input_node():
    g = nn.Graph()
    g.add_node("d", "Dense", {"units": 2})
    assert any(p.code == "no_input" and p.node_id is None for p in nn.analyze(g).problems)


def test_incompatible_shapes_on_add():
    g = sequential([4], [("Dense", {"units": 4})])
    g.add_node("d3", "Dense", {"units": 3})
    g.add_edge("input", "d3")
    g.add_node("add", "Add")
    g.add_edge("n0", "add", 0)
    g.add_edge("d3", "add", 1)
    msg = only(g, "add", "shape_mismatch")
    assert "4" in msg and "3" in msg


def test_dense_after_conv_needs_flatten():
    g = sequential([1, 8, 8], [("Conv2D", {"filters": 2}), ("Dense", {"units": 2})])
    only(g, "n1", "needs_flatten", "Flatten")


def test_conv_on_flat_input_needs_reshape():
    g = sequential([64], [("Conv2D", {"filters": 2})])
    only(g, "n0", "needs_reshape", "64")


def test_kernel_larger_than_its_input():
    g = sequential([1, 3, 3], [("Conv2D", {"filters": 2, "kernel_size": 5})])
    only(g, "n0", "shape", "5", "3")


def test_integer_ids_only_feed_an_embedding():
    g = sequential([5], [("Dense", {"units": 2})], input_dtype="int64")
    only(g, "n0", "needs_float", "Embedding")
    g = sequential([5], [("Embedding", {"vocab_size": 10, "dim": 3})])
    only(g, "n0", "needs_ids", "int64")


def test_all_problems_are_reported_at_once():
    g = sequential([4], [("Dense", {"units": 0}), ("Dens", {})])
    g.add_node("lonely", "Activation", {"function": "nope"})
    ids = {p.node_id for p in nn.analyze(g).problems}
    assert {"n0", "n1", "lonely"} <= ids


def test_compile_refuses_an_invalid_graph_listing_every_problem():
    g = sequential([4], [("Dense", {"units": 0}), ("Dens", {})])
    with pytest.raises(nn.GraphError) as e:
        nn.compile_model(g)
    assert len(e.value.problems) >= 2 and "n0" in str(e.value)
