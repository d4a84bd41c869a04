"""Contract cases for the recurrent and embedding layers."""
from tests.engine.layer_cases import Case

CASES = [
    Case("Embedding", {"vocab_size": 7, "dim": 3}, [[5]], int_inputs={0: 7}, label="seq"),
    Case("Embedding", {"vocab_size": 4, "dim": 2}, [[3, 2]], int_inputs={0: 4}, label="2d"),
    Case("SimpleRNN", {"units": 3}, [[4, 3]], label="last-T4"),
    Case("SimpleRNN", {"units": 2, "return_sequences": True}, [[4, 3]], label="seq-T4"),
    Case("SimpleRNN", {"units": 4}, [[1, 3]], label="last-T1"),
    Case("SimpleRNN", {"units": 5, "return_sequences": True}, [[1, 3]], label="seq-T1"),
    Case("LSTM", {"units": 3}, [[4, 3]], label="last-T4"),
    Case("LSTM", {"units": 2, "return_sequences": True}, [[4, 3]], label="seq-T4"),
    Case("LSTM", {"units": 5}, [[1, 3]], label="last-T1"),
    Case("LSTM", {"units": 4, "return_sequences": True}, [[1, 3]], label="seq-T1"),
]
