"""Contract cases for core layers."""
from tests.engine.layer_cases import Case

CASES = [
    Case("Input", {"shape": [4]}, []),
    Case("Dense", {"units": 3}, [[4]]),
    Case("Dense", {"units": 2, "use_bias": False, "init": "he_normal"}, [[5]], label="nobias"),
    Case("Flatten", {}, [[2, 3, 2]]),
    Case("Reshape", {"shape": [3, 2]}, [[6]]),
]
