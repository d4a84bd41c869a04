"""Contract cases for the lesson layers: GlobalAvgPool1D, ActivityRegularization, Sampling.
The numerical gradient includes the term a layer adds to the loss (see test_layer_contract)."""
from tests.engine.layer_cases import Case

CASES = [
    Case("GlobalAvgPool1D", {}, [[4, 3]]),
    Case("GlobalAvgPool1D", {}, [[1, 5]], batch=2, label="one-step"),
    Case("ActivityRegularization", {"l1": 0.3, "l2": 0.2}, [[5]], label="l1-l2"),
    Case("ActivityRegularization", {"l1": 0.1}, [[2, 3, 3]], label="l1-nchw"),
    Case("ActivityRegularization", {}, [[4]], label="no-penalty"),
    Case("Sampling", {}, [[3], [3]], training=True, label="training"),
    Case("Sampling", {"beta": 0.25}, [[4], [4]], label="inference-beta"),
]
