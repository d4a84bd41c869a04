"""Fold the constant parts of an ONNX graph before its operators are mapped onto layers.

Exporters such as `torch.onnx.export` compute shapes inside the graph (the zero initial state
of an LSTM from Shape, Gather, Unsqueeze, Concat, ConstantOfShape; a Flatten written as
Reshape(x, [x.size(0), -1])). onnxruntime's basic graph optimisations fold those into
initializers once the batch dimension has a value; the fusions that would merge layers
(Conv + BatchNorm, dropped Dropouts, moved Transposes) are switched off so that every layer
of the model is still there to import.
"""
from __future__ import annotations

import tempfile
from pathlib import Path

FOLD_BATCH = 2
"""The batch size given to a dynamic batch dimension while folding; above 1 so that no
optimisation treats the batch axis as a removable axis of size 1."""

KEEP_LAYERS = ["ConvBNFusion", "ConvAddFusion", "ConvMulFusion", "EliminateDropout",
               "TransposeOptimizer", "GemmActivationFusion", "MatMulScaleFusion"]
"""onnxruntime optimisations that would merge or move layers rather than fold constants."""


def fold_constants(onnx, proto) -> tuple[object, int]:
    """(the folded model, the batch size its shapes now hold). A model onnxruntime cannot
    load comes back unchanged, and mapping its operators names what is not supported."""
    try:
        import onnxruntime as ort
    except ImportError:
        return proto, FOLD_BATCH
    model = onnx.ModelProto()
    model.CopyFrom(proto)
    initializers = {t.name for t in model.graph.initializer}
    batch = FOLD_BATCH
    for info in model.graph.input:
        dims = info.type.tensor_type.shape.dim
        if info.name in initializers or not dims:
            continue
        if dims[0].HasField("dim_value") and dims[0].dim_value > 0:
            batch = dims[0].dim_value
        else:
            dims[0].dim_value = FOLD_BATCH
    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_BASIC
    options.log_severity_level = 3
    with tempfile.TemporaryDirectory() as folder:
        options.optimized_model_filepath = str(Path(folder) / "folded.onnx")
        try:
            ort.InferenceSession(model.SerializeToString(), options,
                                 providers=["CPUExecutionProvider"],
                                 disabled_optimizers=KEEP_LAYERS)
            folded = onnx.load(options.optimized_model_filepath)
        except Exception:  # noqa: BLE001 - onnxruntime's errors have classes of their own
            return proto, batch
    folded.graph.name = proto.graph.name
    return folded, batch
