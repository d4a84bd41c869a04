"""Contract cases for activation layers: every Activation function, and PReLU."""
from nnengine.layers.activations import FUNCTION_NAMES
from tests.engine.layer_cases import Case

CASES = [Case("Activation", {"function": f}, [[4]], label=f) for f in FUNCTION_NAMES]
CASES += [
    Case("Activation", {"function": "linear", "slope": -2.5, "intercept": 0.5}, [[2, 3]],
         label="linear-params"),
    Case("Activation", {"function": "step", "threshold": 0.3}, [[5]], label="step-threshold"),
    Case("Activation", {"function": "stair", "levels": 3}, [[5]], label="stair-3"),
    Case("Activation", {"function": "leaky_relu", "alpha": 0.2}, [[2, 3, 3]],
         label="leaky_relu-alpha"),
    Case("Activation", {"function": "elu", "alpha": 0.5}, [[4]], label="elu-alpha"),
    Case("Activation", {"function": "softmax"}, [[2, 5]], label="softmax-3d"),
    Case("Activation", {"function": "relu"}, [[2, 3, 3]], label="relu-nchw"),
    Case("PReLU", {}, [[4]], label="per-feature"),
    Case("PReLU", {"shared": True, "init_alpha": 0.1}, [[4]], label="shared"),
    Case("PReLU", {}, [[2, 3, 3]], label="per-channel-nchw"),
    Case("PReLU", {"shared": True}, [[2, 3, 3]], label="shared-nchw"),
]
