"""ONNX export and import: every exportable layer type and every example and template graph
passes onnx's checker, runs in onnxruntime with nnengine's outputs (1e-5 relative), and comes
back from import as the same graph with the same outputs."""
from __future__ import annotations

import sys

import numpy as np
import onnx  # the onnx extra, installed in CI
import onnxruntime as ort
import pytest
from onnx import TensorProto, helper, numpy_helper

import nnengine as nn
from nnengine.catalogue import layer_specs
from nnengine.errors import ExportError, FileFormatError
from nnengine.export import export_onnx, import_onnx
from nnengine.export.onnx_export import CONVERTERS, to_onnx
from nnengine.export.onnx_import import graph_from_onnx
from nnengine.serialization import load_graph
from tests.engine.builders import mlp
from tests.engine.export_cases import (
    assert_close,
    case_graph,
    graph_files,
    layer_cases,
    perturbed_model,
    sample_inputs,
)

RTOL = 1e-5


def run_onnx(proto, xs: dict[str, np.ndarray]) -> np.ndarray:
    session = ort.InferenceSession(proto.SerializeToString(),
                                   providers=["CPUExecutionProvider"])
    return session.run(None, xs)[0]


def check_exported(model: nn.Model, xs: dict[str, np.ndarray]):
    """Export, check, run in onnxruntime against predict; returns the proto."""
    proto = to_onnx(model)
    onnx.checker.check_model(proto, full_check=True)
    assert [i.name for i in proto.graph.input] == model.input_ids
    assert proto.graph.output[0].name == model.output_id
    assert proto.opset_import[0].version >= 17
    assert_close(run_onnx(proto, xs), model.predict(xs), RTOL)
    return proto


def check_imported(graph: nn.Graph, weights: dict, model: nn.Model, xs) -> None:
    assert graph.to_dict() == model.graph.to_dict()
    again = nn.compile_model(graph)
    again.set_weights(weights)
    np.testing.assert_array_equal(again.predict(xs), model.predict(xs))


def test_every_layer_type_has_a_converter():
    missing = [s.type for s in layer_specs() if not s.is_input and s.type not in CONVERTERS]
    assert not missing, f"no ONNX converter for {missing}"


@pytest.mark.parametrize("case", layer_cases(), ids=lambda c: c.id)
def test_layer_exports_runs_and_imports(case):
    model = perturbed_model(case_graph(case))
    xs = sample_inputs(model)
    proto = check_exported(model, xs)
    check_imported(*graph_from_onnx(proto), model, xs)


@pytest.mark.parametrize("path", graph_files(), ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_graph_file_exports_runs_and_imports(path, tmp_path):
    model = perturbed_model(load_graph(path))
    xs = sample_inputs(model, batch=7)
    check_exported(model, xs)
    out = tmp_path / "model.onnx"
    export_onnx(model, out)
    y_ref, y_onnx = model.predict(xs), run_onnx(onnx.load(str(out)), xs)
    if model.output_shape[-1] > 1 and model.graph.type_of(model.output_id) == "Activation":
        np.testing.assert_array_equal(y_onnx.argmax(-1), y_ref.argmax(-1))
    check_imported(*import_onnx(out), model, xs)


def test_batch_dimension_is_dynamic():
    model = perturbed_model(mlp(4, [5], 3))
    proto = to_onnx(model)
    dim = proto.graph.input[0].type.tensor_type.shape.dim[0]
    assert dim.dim_param == "batch"
    for batch in (1, 9):
        xs = sample_inputs(model, batch=batch)
        assert run_onnx(proto, xs).shape[0] == batch


def test_standardized_input_exports_as_sub_div():
    g = nn.Graph("standardized")
    g.add_node("features", "Input", {"shape": [3]})
    g.add_node("dense", "Dense", {"units": 2})
    g.add_edge("features", "dense")
    model = perturbed_model(g)
    model.set_input_scaling("features", mean=np.array([1.0, -2.0, 0.5]),
                            std=np.array([2.0, 0.5, 3.0]))
    xs = sample_inputs(model)
    proto = check_exported(model, xs)
    assert [n.op_type for n in proto.graph.node][:2] == ["Sub", "Div"]
    graph, weights = graph_from_onnx(proto)
    assert "features/mean" in weights and "features/std" in weights
    check_imported(graph, weights, model, xs)


@pytest.mark.parametrize("name", ["digits_cnn", "deep_residual", "digits_mlp",
                                  "denoising_autoencoder"])
def test_untagged_file_is_read_operator_by_operator(name):
    paths = [p for p in graph_files() if p.stem == name]
    assert paths, f"the {name} graph is missing from the shipped graphs"
    model = perturbed_model(load_graph(paths[0]))
    proto = to_onnx(model)
    for node in proto.graph.node:
        node.doc_string = ""  # what a tool that drops doc strings leaves
    graph, weights = graph_from_onnx(proto)
    again = nn.compile_model(graph)
    again.set_weights(weights)
    xs = sample_inputs(model)
    assert_close(again.predict(xs), model.predict(xs), RTOL)


def foreign_cnn():
    """A CNN as other tools write it: auto_pad SAME_UPPER with an even kernel, Gemm with
    transB=1, MatMul + Add, GlobalAveragePool + Flatten, PRelu with a (C, 1, 1) slope."""
    rng = np.random.default_rng(0)

    def init(name, *shape):
        return numpy_helper.from_array(rng.normal(size=shape).astype(np.float32), name)

    inits = [init("k", 4, 2, 2, 2), init("kb", 4), init("slope", 4, 1, 1),
             init("g", 4), init("be", 4), init("m", 4),
             numpy_helper.from_array(rng.uniform(0.5, 2, 4).astype(np.float32), "v"),
             init("w1", 5, 4), init("b1", 5), init("w2", 5, 3), init("b2", 3)]
    nodes = [
        helper.make_node("Conv", ["x", "k", "kb"], ["c"], auto_pad="SAME_UPPER",
                         kernel_shape=[2, 2], name="conv"),
        helper.make_node("BatchNormalization", ["c", "g", "be", "m", "v"], ["bn"],
                         epsilon=1e-3),
        helper.make_node("PRelu", ["bn", "slope"], ["act"]),
        helper.make_node("MaxPool", ["act"], ["p"], kernel_shape=[2, 2], strides=[2, 2]),
        helper.make_node("GlobalAveragePool", ["p"], ["gap"]),
        helper.make_node("Flatten", ["gap"], ["flat"]),
        helper.make_node("Gemm", ["flat", "w1", "b1"], ["h"], transB=1, alpha=0.5),
        helper.make_node("Tanh", ["h"], ["t"]),
        helper.make_node("MatMul", ["t", "w2"], ["z"]),
        helper.make_node("Add", ["z", "b2"], ["logits"]),
        helper.make_node("Softmax", ["logits"], ["probs"], axis=-1),
    ]
    graph = helper.make_graph(
        nodes, "foreign", [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 2, 6, 5])],
        [helper.make_tensor_value_info("probs", TensorProto.FLOAT, ["N", 3])], inits)
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], ir_version=8)


def test_foreign_file_is_mapped_onto_layers():
    proto = foreign_cnn()
    onnx.checker.check_model(proto, full_check=True)
    graph, weights = graph_from_onnx(proto)
    types = [graph.type_of(n) for n in graph.node_ids()]
    assert types == ["Input", "Conv2D", "BatchNorm", "PReLU", "MaxPool2D", "GlobalAvgPool2D",
                     "Dense", "Activation", "Dense", "Activation"]
    model = nn.compile_model(graph)
    model.set_weights(weights)
    x = np.random.default_rng(1).normal(size=(4, 2, 6, 5)).astype(np.float32)
    assert_close(model.predict(x), run_onnx(proto, {"x": x}), RTOL)


def test_unknown_operator_is_named():
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 3])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", 3])
    proto = helper.make_model(helper.make_graph([helper.make_node("Sin", ["x"], ["y"])],
                                                "g", [x], [y]),
                              opset_imports=[helper.make_opsetid("", 17)])
    with pytest.raises(ExportError, match="operator Sin"):
        graph_from_onnx(proto)


def test_layer_without_converter_is_named(monkeypatch):
    monkeypatch.delitem(CONVERTERS, "Dense")
    model = nn.compile_model(mlp(4, [5], 3))
    with pytest.raises(ExportError, match="node '.*': layer type Dense"):
        to_onnx(model)


def test_missing_onnx_says_what_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "onnx", None)  # makes `import onnx` fail
    model = nn.compile_model(mlp(4, [5], 3))
    with pytest.raises(ExportError, match=r'pip install "nn-designer\[onnx\]"'):
        to_onnx(model)


def test_damaged_file_is_a_file_format_error(tmp_path):
    path = tmp_path / "broken.onnx"
    path.write_bytes(b"\x08\x01garbage that is not protobuf\xff\xff")
    with pytest.raises(FileFormatError, match="broken.onnx"):
        import_onnx(path)
