"""What the word-vector, sparse and variational autoencoder cards measure beyond loss and
accuracy (see `lessons.METRICS`): how many related words are near each other, how active a
sparse code is, how much information a VAE's code carries. No Qt."""
from __future__ import annotations

from typing import Any

import numpy as np

import nnengine as nn
from nnengine.datasets.words import RELATED
from nnengine.word_vectors import related_found

METRICS = {
    "related_words": "share of related word pairs (cat/dog, king/queen, two/three, ...) "
                     "found among each other's 5 nearest words by the first Embedding",
    "code_activation": "mean value of the input to ActivityRegularization on the test split",
    "test_kl": "the KL term (as added to the loss, β included) on the test split",
}


def first_of_type(model: nn.Model, type_name: str) -> str | None:
    """The first node of a layer type, in plan order."""
    layers = model.analysis.layers
    return next((n for n in model.analysis.order if layers[n].spec.type == type_name), None)


def lesson_metrics(model: nn.Model, dataset: nn.Dataset, test: dict[str, float]
                   ) -> dict[str, Any]:
    """The metrics of METRICS that apply to this model (the others are left out)."""
    out: dict[str, Any] = {}
    embedding = first_of_type(model, "Embedding")
    if embedding is not None and dataset.vocabulary:
        out["related_words"] = related_found(model.weights[f"{embedding}/E"],
                                             dataset.vocabulary, RELATED)
    penalty = first_of_type(model, "ActivityRegularization")
    if penalty is not None:
        code = model.inspect(dataset.x_test, nodes=[penalty])[penalty]["activation"]
        out["code_activation"] = float(np.mean(code))
    if "kl" in test:
        out["test_kl"] = test["kl"]
    return out
