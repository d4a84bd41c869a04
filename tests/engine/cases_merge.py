"""Contract cases for merge layers (Add, Concatenate, Dot) and RBF."""
from tests.engine.layer_cases import Case

CASES = [
    Case("Add", {}, [[4], [4]], label="2-inputs"),
    Case("Add", {}, [[2, 3, 3], [2, 3, 3], [2, 3, 3]], label="3-inputs-nchw"),
    Case("Concatenate", {}, [[3], [2]], label="flat"),
    Case("Concatenate", {"axis": 1}, [[2, 4], [3, 4], [1, 4]], label="axis1-3d"),
    Case("Concatenate", {"axis": -1}, [[2, 4], [2, 1]], label="axis-1-3d"),
    Case("Concatenate", {"axis": 2}, [[2, 3, 3], [2, 1, 3]], label="axis2-nchw"),
    Case("Dot", {}, [[5], [5]]),
    Case("RBF", {"units": 3}, [[4]]),
    Case("RBF", {"units": 1}, [[2]], batch=5, label="one-unit"),
]
