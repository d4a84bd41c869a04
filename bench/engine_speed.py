"""Time and minor page faults per training epoch, nnengine vs PyTorch CPU eager.

    python bench/engine_speed.py [--epochs 10] [--mnist-samples 60000] [--only mlp,cnn]
                                 [--without-torch]
    python bench/engine_speed.py --threads-check      # BLAS threads, idle and busy machine

Each side runs in a fresh process of its own: nnengine's never imports torch (importing
torch changes glibc's allocator thresholds and would hide nnengine's page faults). Both use
float32, Adam (lr 0.001), the same batch size and samples, and at most 2 threads (nnengine
picks 1 or 2 itself, see nnengine/threads.py and gemm.py; the figure says which). Each time is the
median of `--epochs` epochs after one warm-up epoch; faults are minor page faults per
steady-state epoch (getrusage). PyTorch needs `pip install torch==2.13.0` (a CPU wheel; not
a dependency of the engine). Goals, nnengine / PyTorch: MLP 0.35, digits CNN 1.0, LSTM 1.3,
MNIST-size CNN 1.2, MNIST-size MLP 0.8.

--threads-check times `nnengine train` on the digits CNN template (median of 6, the two
idle configurations taking turns, ABBA): as it chooses, with OPENBLAS_NUM_THREADS=1, and beside
two CPU-bound processes (median of 3); goals: not slower than one thread when idle, busy at
most 1.5x idle.
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
THREADS = "2"


def dense(units):
    return ("Dense", {"units": units})


RELU = ("Activation", {"function": "relu"})
SOFTMAX = ("Activation", {"function": "softmax"})
MODELS = {
    # key: (label, input shape, nnengine layers, batch, goal, data)
    "mlp": ("MLP 64-128-64-10, digits, batch 32", (64,),
            [dense(128), RELU, dense(64), RELU, dense(10), SOFTMAX], 32, 0.35, "digits"),
    "cnn": ("digits CNN 16-32 on 1x8x8, batch 64", (1, 8, 8),
            [("Conv2D", {"filters": 16, "padding": "same"}), RELU, ("MaxPool2D", {}),
             ("Conv2D", {"filters": 32, "padding": "same"}), RELU, ("MaxPool2D", {}),
             ("Flatten", {}), dense(10), SOFTMAX], 64, 1.0, "digits"),
    "lstm": ("LSTM 64 over 20x16, dense 2, batch 32", (20, 16),
             [("LSTM", {"units": 64}), dense(2), SOFTMAX], 32, 1.3, "sequences"),
    "mnist_cnn": ("MNIST-size CNN 32-64, dense 128, batch 128", (1, 28, 28),
                  [("Conv2D", {"filters": 32, "padding": "same"}), RELU, ("MaxPool2D", {}),
                   ("Conv2D", {"filters": 64, "padding": "same"}), RELU, ("MaxPool2D", {}),
                   ("Flatten", {}), dense(128), RELU, dense(10), SOFTMAX], 128, 1.2, "mnist"),
    "mnist_mlp": ("MNIST-size MLP 784-256-10, batch 128", (784,),
                  [dense(256), RELU, dense(10), SOFTMAX], 128, 0.8, "mnist"),
}


def make_data(kind: str, shape: tuple[int, ...], mnist_samples: int):
    """(x float32, y int64): digits from the shipped file, the others generated (seeded)."""
    import numpy as np

    rng = np.random.default_rng(0)
    if kind == "digits":
        import nnengine as nn  # the driver only; each worker reads the arrays from a file

        d = nn.load_dataset("digits")
        x = np.asarray(d.x_train, np.float32).reshape(-1, *shape)
        return np.ascontiguousarray(x), np.asarray(d.y_train, np.int64)
    if kind == "sequences":
        return rng.random((1024, *shape), dtype=np.float32), rng.integers(0, 2, 1024)
    # MNIST-size: 28x28 grey images with a class-dependent blob, so the task is learnable.
    y = rng.integers(0, 10, mnist_samples)
    x = rng.random((mnist_samples, 784), dtype=np.float32) * 0.3
    x[np.arange(mnist_samples), y * 70 + 100] = 1.0
    return x.reshape(-1, *shape), y


# --- the workers, each in a fresh process ------------------------------------------------
def faults() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt


def nnengine_worker(key: str, epochs: int, data_file: str) -> dict:
    import numpy as np
    from threadpoolctl import threadpool_info

    import nnengine as nn
    from nnengine import gemm

    _, shape, layers, batch, _, _ = MODELS[key]
    with np.load(data_file) as z:
        x, y = z["x"], z["y"]
    g = nn.Graph("bench")
    g.add_node("input", "Input", {"shape": list(shape)})
    prev = "input"
    for i, (type_name, params) in enumerate(layers):
        g.add_node(f"n{i}", type_name, params)
        g.add_edge(prev, f"n{i}")
        prev = f"n{i}"
    model = nn.compile_model(g, seed=0)
    data = nn.Dataset("bench", x, y, x[:1], y[:1], num_classes=int(y.max()) + 1)
    cfg = nn.TrainingConfig(epochs=epochs + 1, batch_size=batch, validation_split=0.0,
                            optimizer={"type": "adam", "learning_rate": 0.001})
    threads: set[int] = set()
    times: list[float] = []
    fault_marks: list[int] = []

    class EpochTimes(nn.Callback):
        """Each epoch's time within one run, as a user's run goes (the PyTorch loop's
        epochs likewise); the faults counted from the warm-up epoch's end; and the threads
        the products run on (BLAS's own, one during training, times the engine's split of
        the large ones, nnengine/gemm.py), looked up after the clock has stopped."""

        def on_epoch_begin(self, trainer, epoch):
            self.start = time.perf_counter()

        def on_epoch_end(self, trainer, epoch, logs):
            times.append(time.perf_counter() - self.start)
            fault_marks.append(faults())
            blas = max(lib["num_threads"] for lib in threadpool_info()
                       if lib["user_api"] == "blas")
            threads.add(blas * gemm.current_workers())

    nn.Trainer(model, data, cfg, callbacks=[EpochTimes()]).fit()
    assert "torch" not in sys.modules, "the nnengine worker must never import torch"
    return {"seconds": statistics.median(times[1:]),
            "faults": (fault_marks[-1] - fault_marks[0]) / epochs, "threads": sorted(threads)}


def torch_worker(key: str, epochs: int, data_file: str) -> dict:
    import numpy as np
    import torch

    torch.set_num_threads(int(THREADS))
    tnn = torch.nn
    batch = MODELS[key][3]
    with np.load(data_file) as z:
        x, y = torch.from_numpy(z["x"]), torch.from_numpy(z["y"])

    class LSTMNet(tnn.Module):
        def __init__(self):
            super().__init__()
            self.lstm = tnn.LSTM(16, 64, batch_first=True)
            self.fc = tnn.Linear(64, 2)

        def forward(self, x):
            _, (h, _) = self.lstm(x)
            return self.fc(h[-1])

    def conv_net(c1, c2, hidden, pixels):
        tail = [tnn.Linear(c2 * pixels, hidden), tnn.ReLU(), tnn.Linear(hidden, 10)] \
            if hidden else [tnn.Linear(c2 * pixels, 10)]
        return tnn.Sequential(tnn.Conv2d(1, c1, 3, padding=1), tnn.ReLU(), tnn.MaxPool2d(2),
                              tnn.Conv2d(c1, c2, 3, padding=1), tnn.ReLU(), tnn.MaxPool2d(2),
                              tnn.Flatten(), *tail)

    makers = {
        "mlp": lambda: tnn.Sequential(tnn.Linear(64, 128), tnn.ReLU(), tnn.Linear(128, 64),
                                      tnn.ReLU(), tnn.Linear(64, 10)),
        "cnn": lambda: conv_net(16, 32, 0, 2 * 2),
        "lstm": LSTMNet,
        "mnist_cnn": lambda: conv_net(32, 64, 128, 7 * 7),
        "mnist_mlp": lambda: tnn.Sequential(tnn.Linear(784, 256), tnn.ReLU(),
                                            tnn.Linear(256, 10)),
    }
    torch.manual_seed(0)
    model = makers[key]()
    opt = torch.optim.Adam(model.parameters(), lr=0.001)
    loss_fn = tnn.CrossEntropyLoss()
    times, start_faults = [], 0
    for epoch in range(epochs + 1):
        if epoch == 1:
            start_faults = faults()
        start = time.perf_counter()
        order = torch.randperm(len(x))
        for i in range(0, len(x), batch):
            idx = order[i:i + batch]
            opt.zero_grad()
            loss_fn(model(x[idx]), y[idx]).backward()
            opt.step()
        times.append(time.perf_counter() - start)
    return {"seconds": statistics.median(times[1:]),
            "faults": (faults() - start_faults) / epochs, "threads": [torch.get_num_threads()]}


# --- the driver --------------------------------------------------------------------------
def run_worker(side: str, key: str, epochs: int, data_file: str) -> dict | None:
    env = {**os.environ, "OMP_NUM_THREADS": THREADS, "OPENBLAS_NUM_THREADS": THREADS,
           "MKL_NUM_THREADS": THREADS}
    done = subprocess.run([sys.executable, __file__, "--worker", side, "--model", key,
                           "--epochs", str(epochs), "--data", data_file],
                          env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        print(f"{side} worker for {key} failed: {done.stderr.strip().splitlines()[-1:]}",
              file=sys.stderr)
        return None
    return json.loads(done.stdout)


def torch_available() -> bool:
    done = subprocess.run([sys.executable, "-c", "import torch"], capture_output=True,
                          check=False)
    return done.returncode == 0


def compare(args) -> None:
    import numpy as np

    with_torch = not args.without_torch and torch_available()
    if not with_torch and not args.without_torch:
        print("torch is not installed (pip install torch==2.13.0): nnengine figures only",
              file=sys.stderr)
    print(f"load average before: {' '.join(f'{v:.2f}' for v in os.getloadavg())}")
    print(f"{'model':44s} {'nnengine s':>10s} {'faults':>8s} {'thr':>3s} "
          f"{'torch s':>9s} {'faults':>8s} {'ratio':>6s} {'goal':>5s}")
    keys = args.only.split(",") if args.only else list(MODELS)
    with tempfile.TemporaryDirectory() as tmp:
        for key in keys:
            label, shape, _, _, goal, kind = MODELS[key]
            x, y = make_data(kind, shape, args.mnist_samples)
            data_file = str(Path(tmp) / f"{key}.npz")
            np.savez(data_file, x=x, y=y)
            ours = run_worker("nnengine", key, args.epochs, data_file)
            theirs = run_worker("torch", key, args.epochs, data_file) if with_torch else None
            line = f"{label:44s}"
            line += (f" {ours['seconds']:10.4f} {ours['faults']:8.0f} "
                     f"{','.join(map(str, ours['threads'])):>3s}") if ours else f" {'-':>23s}"
            if theirs:
                line += f" {theirs['seconds']:9.4f} {theirs['faults']:8.0f}"
                if ours:
                    ratio = ours["seconds"] / theirs["seconds"]
                    line += f" {ratio:6.2f} {goal:5.2f} {'ok' if ratio <= goal else 'MISSED'}"
            print(line, flush=True)
    print(f"load average after:  {' '.join(f'{v:.2f}' for v in os.getloadavg())}")


def time_train(envs: list[dict], busy: int, repeats: int = 5) -> list[float]:
    """Median wall-clock time of `nnengine train` on the digits CNN template under each of
    `envs` (extra environment variables), with `busy` CPU-bound processes running beside it.
    The environments take turns, run by run and in reversed order every other round (ABBA),
    so neither a drift in the machine's load nor going first favours one."""
    hogs = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(busy)]
    try:
        times: list[list[float]] = [[] for _ in envs]
        with tempfile.TemporaryDirectory() as out:
            for round_ in range(repeats):
                turns = list(zip(envs, times))
                for env_extra, runs in turns[::-1] if round_ % 2 else turns:
                    start = time.perf_counter()
                    subprocess.run([sys.executable, "-m", "nnengine", "train",
                                    str(ROOT / "resources/templates/digits_cnn.json"),
                                    "--out", out], env={**os.environ, **env_extra},
                                   check=True, capture_output=True)
                    runs.append(time.perf_counter() - start)
        return [statistics.median(runs) for runs in times]
    finally:
        for hog in hogs:
            hog.kill()
            hog.wait()


def threads_check() -> None:
    print(f"load average before: {' '.join(f'{v:.2f}' for v in os.getloadavg())}")
    chosen, one = time_train([{}, {"OPENBLAS_NUM_THREADS": "1"}], 0, repeats=6)
    busy, = time_train([{}], 2, repeats=3)
    print(f"nnengine train digits_cnn.json (median of 6, taking turns): as chosen {chosen:.2f} "
          f"s, OPENBLAS_NUM_THREADS=1 {one:.2f} s (ratio {chosen / one:.2f}, goal <= 1.00); "
          f"beside 2 CPU-bound processes {busy:.2f} s ({busy / chosen:.2f}x, goal <= 1.50)")
    print(f"load average after:  {' '.join(f'{v:.2f}' for v in os.getloadavg())}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=10,
                        help="timed epochs after a warm-up (their median is the figure)")
    parser.add_argument("--mnist-samples", type=int, default=60000)
    parser.add_argument("--only", help="comma-separated model keys: " + ", ".join(MODELS))
    parser.add_argument("--threads-check", action="store_true")
    parser.add_argument("--without-torch", action="store_true",
                        help="nnengine figures only (e.g. to compare engine versions)")
    parser.add_argument("--worker", choices=("nnengine", "torch"), help=argparse.SUPPRESS)
    parser.add_argument("--model", help=argparse.SUPPRESS)
    parser.add_argument("--data", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker = nnengine_worker if args.worker == "nnengine" else torch_worker
        print(json.dumps(worker(args.model, args.epochs, args.data)))
    elif args.threads_check:
        threads_check()
    else:
        compare(args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
