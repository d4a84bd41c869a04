"""ONNX files written by `torch.onnx.export` (opset 17, the TorchScript exporter, dynamic
batch) import onto nnengine layers and give PyTorch's outputs: MLP, CNN with pooling, a
strided CNN with BatchNorm and LeakyReLU, nn.LSTM and nn.RNN in the ways their outputs are
used, rectangular windows; what cannot be imported is named by operator."""
from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch
from torch import nn as tnn

import nnengine as nn
from nnengine.errors import ExportError
from nnengine.export import import_onnx
from tests.engine.export_cases import assert_close

RTOL = 1e-6  # of the output's largest magnitude: a few float32 roundings (seen: 2.5e-7)


class Recurrent(tnn.Module):
    """nn.LSTM or nn.RNN, batch-first, with its output taken one of the usual ways."""

    def __init__(self, kind: str, use: str):
        super().__init__()
        self.rnn = getattr(tnn, kind)(3, 5, batch_first=True)
        self.fc = tnn.Linear(30 if use == "sequence" else 5, 2)
        self.use = use

    def forward(self, x):
        out, state = self.rnn(x)
        if self.use == "last_step":  # out[:, -1]
            return self.fc(out[:, -1])
        if self.use == "h_n":  # the final hidden state
            h = state[0] if isinstance(state, tuple) else state
            return self.fc(h[-1])
        return self.fc(torch.flatten(out, 1))  # the whole sequence


def _models() -> dict[str, tuple[tnn.Module, tuple[int, ...]]]:
    return {
        "mlp": (tnn.Sequential(tnn.Linear(4, 8), tnn.Tanh(), tnn.Linear(8, 3),
                               tnn.Softmax(-1)), (4,)),
        "cnn_pool": (tnn.Sequential(tnn.Conv2d(1, 4, 3, padding=1), tnn.ReLU(),
                                    tnn.MaxPool2d(2), tnn.Conv2d(4, 6, 3), tnn.ReLU(),
                                    tnn.AvgPool2d(2), tnn.Flatten(), tnn.Linear(6, 3)),
                     (1, 8, 8)),
        "strided_bn": (tnn.Sequential(tnn.Conv2d(2, 4, 3, stride=2, padding=1),
                                      tnn.BatchNorm2d(4), tnn.LeakyReLU(0.1), tnn.Flatten(),
                                      tnn.Linear(64, 3)), (2, 8, 8)),
        "lstm_last_step": (Recurrent("LSTM", "last_step"), (6, 3)),
        "lstm_h_n": (Recurrent("LSTM", "h_n"), (6, 3)),
        "rnn_last_step": (Recurrent("RNN", "last_step"), (6, 3)),
        "rnn_h_n": (Recurrent("RNN", "h_n"), (6, 3)),
        "lstm_sequence": (Recurrent("LSTM", "sequence"), (6, 3)),
        "rnn_sequence": (Recurrent("RNN", "sequence"), (6, 3)),
    }


def export(module: tnn.Module, sample_shape: tuple[int, ...], path, **options) -> np.ndarray:
    """Write `module` with torch.onnx.export; return a batch of inputs for the comparison."""
    torch.manual_seed(0)
    for p in module.parameters():  # weights and statistics away from their initial values
        p.data.normal_(0, 0.4)
    for name, buffer in module.named_buffers():
        if "running" in name:
            buffer.data.uniform_(0.5, 1.5)
    module.eval()
    x = torch.randn(5, *sample_shape)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(module, (x,), str(path), opset_version=17, dynamo=False,
                          input_names=["x"], output_names=["y"],
                          dynamic_axes={"x": {0: "batch"}, "y": {0: "batch"}}, **options)
    return x.numpy()


def imported(path) -> tuple[nn.Graph, nn.Model]:
    graph, weights = import_onnx(path)
    model = nn.compile_model(graph)
    model.set_weights(weights)
    return graph, model


@pytest.mark.parametrize("name", list(_models()))
def test_pytorch_model_imports_with_its_outputs(name, tmp_path):
    module, shape = _models()[name]
    x = export(module, shape, tmp_path / "m.onnx")
    graph, model = imported(tmp_path / "m.onnx")
    with torch.no_grad():
        want = module(torch.from_numpy(x)).numpy()
    assert_close(model.predict(x), want, RTOL)
    types = {graph.type_of(n) for n in graph.node_ids()}
    kind = {"lstm": "LSTM", "rnn": "SimpleRNN"}.get(name.split("_")[0])
    if kind:
        assert kind in types and "Transpose" not in types
        step = next(n for n in graph.node_ids() if graph.type_of(n) == kind)
        assert graph.params_of(step)["return_sequences"] is name.endswith("sequence")


def test_batch_norm_kept_as_a_layer_when_torch_does_not_fold_it(tmp_path):
    """With do_constant_folding=False PyTorch writes BatchNormalization; the folding here
    keeps it a layer rather than merging it into the convolution."""
    module, shape = _models()["strided_bn"]
    x = export(module, shape, tmp_path / "m.onnx", do_constant_folding=False)
    graph, model = imported(tmp_path / "m.onnx")
    assert [graph.type_of(n) for n in graph.node_ids()] == [
        "Input", "Conv2D", "BatchNorm", "Activation", "Flatten", "Dense"]
    with torch.no_grad():
        assert_close(model.predict(x), module(torch.from_numpy(x)).numpy(), RTOL)


def test_a_flatten_written_with_shapes_folds_to_a_reshape(tmp_path):
    class ViewFlatten(tnn.Module):
        def __init__(self):
            super().__init__()
            self.conv, self.fc = tnn.Conv2d(1, 2, 3), tnn.Linear(72, 2)

        def forward(self, x):
            y = self.conv(x)
            return self.fc(y.view(y.size(0), -1))

    module = ViewFlatten()
    x = export(module, (1, 8, 8), tmp_path / "m.onnx")
    graph, model = imported(tmp_path / "m.onnx")
    assert "Reshape" in {graph.type_of(n) for n in graph.node_ids()}
    with torch.no_grad():
        assert_close(model.predict(x[:3]), module(torch.from_numpy(x[:3])).numpy(), RTOL)


def test_every_unimportable_operator_is_named(tmp_path):
    module = tnn.Sequential(tnn.Linear(4, 4), tnn.GELU(), tnn.Linear(4, 2), tnn.Sigmoid())
    export(module, (4,), tmp_path / "gelu.onnx")
    with pytest.raises(ExportError) as info:
        import_onnx(tmp_path / "gelu.onnx")
    message = str(info.value)
    assert message.startswith(f"{tmp_path / 'gelu.onnx'}: cannot import the operators ")
    assert "Erf" in message.split("(supported")[0] and "Mul" in message.split("(supported")[0]


def test_rectangular_windows_import(tmp_path):
    """A (3, 1) convolution with (2, 1) strides and a (2, 1) pool: [h, w] pairs here."""
    module = tnn.Sequential(tnn.Conv2d(1, 2, (3, 1), stride=(2, 1), padding=(1, 0)),
                            tnn.ReLU(), tnn.MaxPool2d((2, 1)), tnn.Flatten())
    x = export(module, (1, 8, 8), tmp_path / "rect.onnx")
    graph, model = imported(tmp_path / "rect.onnx")
    conv = next(n for n in graph.node_ids() if graph.type_of(n) == "Conv2D")
    assert graph.params_of(conv)["kernel_size"] == [3, 1]
    with torch.no_grad():
        assert_close(model.predict(x), module(torch.from_numpy(x)).numpy(), RTOL)
