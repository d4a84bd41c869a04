"""The lesson layers' loss terms in the exported PyTorch module: `added_loss` of Sampling and
ActivityRegularization equals nnengine's term on the same batch. (ONNX holds inference
only: there both layers are the identity on their first input, checked with every layer in
test_onnx_export.) Skipped where torch is missing (CI), as the other PyTorch tests are."""
from __future__ import annotations

import pytest

import nnengine as nn
from tests.engine.builders import sequential
from tests.engine.export_cases import perturbed_model, sample_inputs
from tests.engine.test_loss_terms import tiny_vae
from tests.engine.test_pytorch_export import load_module


@pytest.mark.parametrize("graph, node", [
    (tiny_vae(beta=0.3), "z"),
    (sequential([4], [("Dense", {"units": 3}),
                      ("sparse", "ActivityRegularization", {"l1": 0.2, "l2": 0.05})]), "sparse"),
])
def test_pytorch_module_keeps_the_same_added_loss(graph, node, tmp_path):
    torch = pytest.importorskip("torch")
    model = perturbed_model(graph)
    x = sample_inputs(model, batch=6)
    net, _ = load_module(model, tmp_path)
    net.eval()
    with torch.no_grad():
        net(torch.from_numpy(next(iter(x.values()))))
    term = next(iter(model.mean_loss_terms(x).values()))
    assert float(getattr(net, node).added_loss) == pytest.approx(term, rel=1e-5)
    assert term > 0


def test_pytorch_train_script_adds_the_terms_as_nnengine_does(tmp_path):
    pytest.importorskip("torch")
    from tests.engine.test_pytorch_train import export, printed_test, run

    graph = nn.load_graph("resources/templates/vae.json")
    graph.training = {**graph.training, "standardize": False}
    model = export(graph, tmp_path)
    config = nn.TrainingConfig.from_dict(graph.training)
    expected = nn.evaluate(model, nn.load_dataset("digits"), config)
    test = printed_test(run(tmp_path, "--epochs", "0"))
    assert expected["kl"] > 0.001
    assert test["loss"] == pytest.approx(expected["loss"], rel=1e-4)
