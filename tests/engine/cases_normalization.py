"""Contract cases for BatchNorm, Dropout and GaussianNoise in training and inference."""
from tests.engine.layer_cases import Case

CASES = [
    Case("BatchNorm", {}, [[4]], training=True, batch=5, label="nf-train"),
    Case("BatchNorm", {}, [[4]], training=False, label="nf-infer"),
    Case("BatchNorm", {"momentum": 0.5, "epsilon": 1e-3}, [[2, 3, 3]], training=True,
         label="nchw-train"),
    Case("BatchNorm", {}, [[2, 3, 3]], training=False, label="nchw-infer"),
    Case("Dropout", {}, [[6]], training=True, label="train"),
    Case("Dropout", {"rate": 0.2}, [[2, 3, 3]], training=True, label="train-nchw"),
    Case("Dropout", {}, [[6]], training=False, label="infer"),
    Case("GaussianNoise", {}, [[4]], training=True, label="train"),
    Case("GaussianNoise", {"stddev": 0.5}, [[2, 3]], training=False, label="infer"),
]
