"""Time per training epoch, nnengine vs PyTorch CPU eager, measured side by side.

    python bench/engine_speed.py [--repeats 5]

Needs `pip install torch==2.13.0` for the comparison (nnengine itself never needs torch).
Both sides use 2 BLAS/intra-op threads, float32, Adam, the same batch size and sample count;
each figure is the median of several epochs after one warm-up epoch. Prints one line per
model with both times and the ratio nnengine / PyTorch (goals: MLP <= 0.5, CNN <= 1.5,
LSTM <= 2.0).
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import time

os.environ.setdefault("OMP_NUM_THREADS", "2")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "2")
os.environ.setdefault("MKL_NUM_THREADS", "2")

import numpy as np

import nnengine as nn


def graph(layers, input_shape):
    g = nn.Graph("bench")
    g.add_node("input", "Input", {"shape": list(input_shape)})
    prev = "input"
    for i, (type_name, params) in enumerate(layers):
        g.add_node(f"n{i}", type_name, params)
        g.add_edge(prev, f"n{i}")
        prev = f"n{i}"
    return g


MLP = [("Dense", {"units": 128}), ("Activation", {"function": "relu"}),
       ("Dense", {"units": 64}), ("Activation", {"function": "relu"}),
       ("Dense", {"units": 10}), ("Activation", {"function": "softmax"})]
CNN = [("Conv2D", {"filters": 16, "padding": "same"}), ("Activation", {"function": "relu"}),
       ("MaxPool2D", {}),
       ("Conv2D", {"filters": 32, "padding": "same"}), ("Activation", {"function": "relu"}),
       ("MaxPool2D", {}), ("Flatten", {}), ("Dense", {"units": 10}),
       ("Activation", {"function": "softmax"})]
LSTM = [("LSTM", {"units": 64}), ("Dense", {"units": 2}),
        ("Activation", {"function": "softmax"})]


def digits_like(n, shape, classes, seed=0):
    rng = np.random.default_rng(seed)
    return rng.random((n, *shape), dtype=np.float32), rng.integers(0, classes, n)


def time_nnengine(layers, shape, x, y, batch, repeats):
    model = nn.compile_model(graph(layers, shape), seed=0)
    data = nn.Dataset("bench", x, y, x[:1], y[:1], "classification", int(y.max()) + 1)
    cfg = nn.TrainingConfig(epochs=1, batch_size=batch, validation_split=0.0,
                            optimizer={"type": "adam", "learning_rate": 0.001})
    trainer = nn.Trainer(model, data, cfg)
    times = []
    for _ in range(repeats + 1):
        start = time.perf_counter()
        trainer.fit()
        times.append(time.perf_counter() - start)
    return statistics.median(times[1:])


def torch_models(torch):
    tnn = torch.nn

    class LSTMNet(tnn.Module):
        def __init__(self):
            super().__init__()
            self.lstm = tnn.LSTM(16, 64, batch_first=True)
            self.fc = tnn.Linear(64, 2)

        def forward(self, x):
            _, (h, _) = self.lstm(x)
            return self.fc(h[-1])

    return {
        "mlp": lambda: tnn.Sequential(tnn.Linear(64, 128), tnn.ReLU(), tnn.Linear(128, 64),
                                      tnn.ReLU(), tnn.Linear(64, 10)),
        "cnn": lambda: tnn.Sequential(
            tnn.Conv2d(1, 16, 3, padding=1), tnn.ReLU(), tnn.MaxPool2d(2),
            tnn.Conv2d(16, 32, 3, padding=1), tnn.ReLU(), tnn.MaxPool2d(2),
            tnn.Flatten(), tnn.Linear(128, 10)),
        "lstm": LSTMNet,
    }


def time_torch(torch, make, x, y, batch, repeats):
    torch.manual_seed(0)
    model = make()
    opt = torch.optim.Adam(model.parameters(), lr=0.001)
    loss_fn = torch.nn.CrossEntropyLoss()
    xt, yt = torch.from_numpy(x), torch.from_numpy(y)
    times = []
    for _ in range(repeats + 1):
        start = time.perf_counter()
        order = torch.randperm(len(xt))
        for i in range(0, len(xt), batch):
            idx = order[i:i + batch]
            opt.zero_grad()
            loss = loss_fn(model(xt[idx]), yt[idx])
            loss.backward()
            opt.step()
        times.append(time.perf_counter() - start)
    return statistics.median(times[1:])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    try:
        import torch
    except ImportError:
        torch = None
        print("torch is not installed (pip install torch==2.13.0): nnengine figures only",
              file=sys.stderr)
    try:
        digits = nn.load_dataset("digits")
        x_digits, y_digits = np.asarray(digits.x_train, np.float32), digits.y_train
    except nn.NNEngineError:
        x_digits, y_digits = digits_like(1437, (64,), 10)
    cases = [
        ("mlp", "MLP 64-128-64-10, digits, batch 32", MLP, (64,), x_digits, y_digits, 32,
         0.5),
        ("cnn", "CNN on 1x8x8 digits, batch 64", CNN, (1, 8, 8),
         x_digits.reshape(-1, 1, 8, 8), y_digits, 64, 1.5),
        ("lstm", "LSTM 64 over 20x16, dense 2, batch 32", LSTM, (20, 16),
         *digits_like(1024, (20, 16), 2), 32, 2.0),
    ]
    if torch is not None:
        torch.set_num_threads(2)
        makers = torch_models(torch)
    print(f"{'model':40s} {'nnengine s/epoch':>17s} {'torch s/epoch':>14s} {'ratio':>7s} "
          f"{'goal':>6s}")
    for key, label, layers, shape, x, y, batch, goal in cases:
        ours = time_nnengine(layers, shape, x, y, batch, args.repeats)
        if torch is None:
            print(f"{label:40s} {ours:17.4f}")
            continue
        theirs = time_torch(torch, makers[key], x, y, batch, args.repeats)
        ratio = ours / theirs
        flag = "ok" if ratio <= goal else "MISSED"
        print(f"{label:40s} {ours:17.4f} {theirs:14.4f} {ratio:7.2f} {goal:6.2f} {flag}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
