"""The source of the `train.py` that `--format pytorch-train` writes: a PyTorch training script
for one process or for `torchrun` (DistributedDataParallel), standalone (torch and NumPy;
Pillow for image folders), with the graph's training block as its defaults.

Only the settings block at the top differs from one model to the next; the rest of the text
is fixed, so what it does can be read here once.
"""
from __future__ import annotations

import pprint
from typing import Any

SETTINGS_MARK = "# @SETTINGS@\n"

TRAIN_SCRIPT = '''"""Train the nnengine graph @NAME@ with PyTorch, written by nnengine.

    python train.py                                  # one process (a GPU when there is one)
    torchrun --nproc_per_node=4 train.py             # four processes, DistributedDataParallel
    python train.py --epochs 50 --lr 0.0005 --data my_data.npz
    python train.py --resume                         # carry on from the last checkpoint

The defaults below are the graph's training block; every one has a flag (--help). It starts
from weights.npz, trains exactly as nnengine defines it (loss, optimizer, l2 = l2·Σw² over
W, U and E, clip_norm on the global gradient norm, standardize, validation split), saves a
checkpoint after every epoch, and writes the trained weights as an nnengine .npz.
"""
from __future__ import annotations

import argparse
import csv
import gzip
import json
import math
import os
import re
import struct
import sys
from pathlib import Path

import numpy as np
import torch
import torch.distributed as dist
import torch.nn.functional as F
from torch.nn.parallel import DistributedDataParallel
from torch.utils.data import DataLoader, DistributedSampler, TensorDataset

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from model import @CLASS@ as Net, load_npz_weights, save_npz_weights  # noqa: E402

# @SETTINGS@
SPLIT_SEED, TEST_FRACTION = 1234, 0.2  # how nnengine splits a file without its own test part
EPS = 1e-7  # nnengine clips probabilities to [EPS, 1 - EPS] in its losses


# --- data: the files nnengine reads, split as nnengine splits them ---------------------------
class DataError(Exception):
    """A data file that cannot be used; the message names it."""


def read_data(path: Path) -> tuple[dict, np.ndarray, dict, np.ndarray]:
    """(x per input id, y, x_test per input id, y_test) from a .npz, .csv, IDX file or a
    folder (MNIST IDX files, or images in one sub-folder per class)."""
    if path.is_dir():
        idx = sorted(p for p in path.iterdir() if "images" in p.name and "idx3" in p.name)
        idx.sort(key=lambda p: not p.name.startswith("train"))
        return read_idx_set(idx[0]) if idx else read_image_folder(path)
    if not path.exists():
        raise DataError(f"{path}: no such file or folder")
    name = path.name.lower().removesuffix(".gz")
    if name.endswith((".csv", ".tsv", ".txt")):
        return read_csv(path)
    if name.endswith(".npz"):
        return read_npz(path)
    return read_idx_set(path)


def split(x: dict, y: np.ndarray) -> tuple[dict, np.ndarray, dict, np.ndarray]:
    order = np.random.default_rng(SPLIT_SEED).permutation(len(y))
    n_test = round(len(y) * TEST_FRACTION)
    test, train = order[:n_test], order[n_test:]
    return ({k: v[train] for k, v in x.items()}, y[train],
            {k: v[test] for k, v in x.items()}, y[test])


def labels(y: np.ndarray) -> np.ndarray:
    """Whole numbers are class labels (int64), anything else regression targets."""
    y = np.asarray(y)
    if y.dtype.kind == "f" and not np.all(np.mod(y, 1) == 0):
        return y.astype(np.float32)
    return y.astype(np.int64)


def read_bytes(path: Path) -> bytes:
    raw = path.read_bytes()
    return gzip.decompress(raw) if path.name.lower().endswith(".gz") else raw


def read_npz(path: Path):
    """Arrays x, y, optional x_test, y_test (several inputs: x_<id>, x_test_<id>)."""
    with np.load(path, allow_pickle=False) as z:
        arrays = {k: z[k] for k in z.files}
    if "y" not in arrays:
        raise DataError(f"{path}: has no array 'y'")
    ids = [i["id"] for i in INPUTS]
    single = len(ids) == 1 and ("x" in arrays or "x_test" in arrays)
    train_keys = {ids[0]: "x"} if single else {i: f"x_{i}" for i in ids}
    test_keys = {ids[0]: "x_test"} if single else {i: f"x_test_{i}" for i in ids}
    for key in train_keys.values():
        if key not in arrays:
            raise DataError(f"{path}: has no array '{key}'")
    x = {i: arrays[k] for i, k in train_keys.items()}
    y = labels(arrays["y"])
    if "y_test" not in arrays:
        return split(x, y)
    y_test = labels(arrays["y_test"])
    if y.dtype.kind == "i" and y_test.dtype.kind == "f":
        y = y.astype(np.float32)
    return x, y, {i: arrays[k] for i, k in test_keys.items()}, y_test


def read_csv(path: Path):
    """Numbers, the label in the last column; a first row with text is a header; a label
    column of words becomes class ids in sorted order."""
    lines = [line for line in read_bytes(path).decode("utf-8-sig").splitlines()
             if line.strip() and not line.lstrip().startswith("#")]
    delimiter = next((d for d in (",", ";", "\\t") if d in lines[0]), ",")
    rows = list(csv.reader(lines, delimiter=delimiter))

    def number(text: str) -> bool:
        try:
            float(text)
            return True
        except ValueError:
            return False

    first = rows[0]
    if len(first) < 2 or not all(number(f) for f in first[:-1]) or \\
            not any(number(f) for f in first):
        rows = rows[1:]
    x = np.array([[float(f) for f in row[:-1]] for row in rows], dtype=np.float64)
    words = [row[-1].strip() for row in rows]
    if all(number(w) for w in words):
        y = labels(np.array([float(w) for w in words]))
    else:
        names = sorted(set(words))
        y = np.array([names.index(w) for w in words], dtype=np.int64)
    return split({INPUTS[0]["id"]: x.astype(np.float32)}, y)


IDX_TYPES = {0x08: np.uint8, 0x09: np.int8, 0x0B: np.int16, 0x0C: np.int32,
             0x0D: np.float32, 0x0E: np.float64}


def read_idx(path: Path) -> np.ndarray:
    raw = read_bytes(path)
    if len(raw) < 4 or raw[:2] != b"\\0\\0" or raw[2] not in IDX_TYPES:
        raise DataError(f"{path}: is not an IDX file")
    dims = struct.unpack(f">{raw[3]}I", raw[4:4 + 4 * raw[3]])
    dtype = np.dtype(IDX_TYPES[raw[2]]).newbyteorder(">")
    return np.frombuffer(raw, dtype=dtype, offset=4 + 4 * raw[3]).reshape(dims).astype(
        dtype.newbyteorder("="))


def read_idx_pair(images: Path) -> tuple[np.ndarray, np.ndarray]:
    name = re.sub(r"idx\\d", "idx1", images.name.replace("images", "labels"))
    candidates = [images.with_name(name),
                  images.with_name(name[:-3] if name.endswith(".gz") else name + ".gz")]
    labels_file = next((p for p in candidates if p.exists()), candidates[0])
    raw = read_idx(images)
    x = raw.astype(np.float32) / (255.0 if raw.dtype == np.uint8 else 1.0)
    return x, read_idx(labels_file).astype(np.int64)


def read_idx_set(path: Path):
    """An IDX images file, its labels beside it, and the t10k-* pair as the test part."""
    if "labels" in path.name and "images" not in path.name:
        path = path.with_name(re.sub(r"idx1", "idx3", path.name.replace("labels", "images")))
    x, y = read_idx_pair(path)
    test = path.with_name(path.name.replace("train", "t10k", 1))
    key = INPUTS[0]["id"]
    if path.name.startswith("train") and test.exists():
        x_test, y_test = read_idx_pair(test)
        return {key: x}, y, {key: x_test}, y_test
    return split({key: x}, y)


def read_image_folder(path: Path):
    """root/<class>/*.png (or root/train/<class>, root/test/<class>), resized to the Input."""
    from PIL import Image

    shape = INPUTS[0]["shape"]
    channels, height, width = shape if len(shape) == 3 else (1, *shape)

    def folders(root: Path) -> list[Path]:
        return sorted((p for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")),
                      key=lambda p: p.name)

    def read(root: Path, classes: list[str]) -> tuple[np.ndarray, np.ndarray]:
        images, ids = [], []
        for label, name in enumerate(classes):
            folder = root / name
            files = sorted(p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in (
                ".png", ".jpg", ".jpeg", ".bmp", ".gif", ".tif", ".tiff", ".webp", ".pgm",
                ".ppm")) if folder.is_dir() else []
            for file in files:
                with Image.open(file) as im:
                    im = im.convert("L" if channels == 1 else "RGB").resize(
                        (width, height), Image.Resampling.BILINEAR)
                    a = np.asarray(im, dtype=np.float32) / 255.0
                images.append(a[None] if channels == 1 else a.transpose(2, 0, 1))
                ids.append(label)
        return (np.stack(images) if images else np.zeros((0, channels, height, width),
                                                         np.float32)), np.array(ids, np.int64)

    key = INPUTS[0]["id"]
    sub = {p.name.lower(): p for p in folders(path)}
    if set(sub) == {"train", "test"}:
        classes = [p.name for p in folders(sub["train"])]
        x, y = read(sub["train"], classes)
        x_test, y_test = read(sub["test"], classes)
        return {key: x}, y, {key: x_test}, y_test
    x, y = read(path, [p.name for p in folders(path)])
    return split({key: x}, y)


def as_inputs(x: dict, dtype: torch.dtype) -> list[np.ndarray]:
    """One array per Input, reshaped to its shape and cast as nnengine casts it."""
    out = []
    for spec in INPUTS:
        a = np.asarray(x[spec["id"]])
        if a.shape[1:] != tuple(spec["shape"]):
            if math.prod(a.shape[1:]) != math.prod(spec["shape"]):
                raise DataError(f"input '{spec['id']}' expects samples of shape "
                                f"{spec['shape']}, the data has {list(a.shape[1:])}")
            a = a.reshape((len(a), *spec["shape"]))
        np_dtype = np.int64 if spec["dtype"] == "int64" else (
            np.float64 if dtype == torch.float64 else np.float32)
        out.append(np.ascontiguousarray(a, dtype=np_dtype))
    return out


def targets(xs: list[np.ndarray], y: np.ndarray, loss: str, dtype) -> np.ndarray:
    """Labels (int64) for cross_entropy and hinge; otherwise floats shaped like the output,
    one-hot vectors of the labels (target "one_hot"), or the input itself for an
    autoencoder (target "inputs")."""
    if TRAINING["target"] == "inputs":
        return xs[0]
    if TRAINING["target"] == "one_hot":
        return np.eye(math.prod(OUTPUT["shape"]), dtype=dtype)[y.astype(np.int64)]
    if loss in ("cross_entropy", "hinge"):
        return y.astype(np.int64)
    return y.astype(dtype).reshape((len(y), *OUTPUT["shape"]))


# --- the loss, as nnengine defines it ------------------------------------------------------
def fused(loss: str) -> bool:
    """A final softmax or sigmoid and the matching loss: the loss works on the logits, as
    nnengine fuses the two for a stable gradient."""
    return (loss, OUTPUT["activation"]) in (("cross_entropy", "softmax"),
                                            ("binary_cross_entropy", "sigmoid"))


def forward(model, xs: list[torch.Tensor], loss: str) -> tuple[torch.Tensor, torch.Tensor]:
    """(what the loss takes, the model's output)."""
    if fused(loss):
        logits = model(*xs, logits=True)
        squash = torch.softmax(logits, dim=-1) if OUTPUT["activation"] == "softmax" \\
            else torch.sigmoid(logits)
        return logits, squash
    y = model(*xs)
    return y, y


def data_loss(loss: str, z: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
    """Mean over the batch (and over output elements for mse, mae, binary_cross_entropy)."""
    if loss == "cross_entropy":
        if fused(loss):
            return F.cross_entropy(z, t)
        return -torch.log(z.gather(1, t[:, None]).clamp_min(EPS)).mean()
    if loss == "binary_cross_entropy":
        if fused(loss):
            return F.binary_cross_entropy_with_logits(z, t)
        p = z.clamp(EPS, 1 - EPS)
        return -(t * torch.log(p) + (1 - t) * torch.log(1 - p)).mean()
    if loss == "mse":
        return F.mse_loss(z, t)
    if loss == "mae":
        return F.l1_loss(z, t)
    if loss == "hinge":  # multiclass SVM: the wrong classes' margins, summed, batch mean
        margins = (z - z.gather(1, t[:, None]) + 1).clamp_min(0)
        return margins.scatter(1, t[:, None], 0).sum(dim=1).mean()
    raise SystemExit(f"train.py: unknown loss '{loss}'")


def classifies(loss: str) -> bool:
    """Whether there is an accuracy to report: class labels, or their one-hot vectors."""
    return TRAINING["target"] == "one_hot" or \\
        loss in ("cross_entropy", "hinge", "binary_cross_entropy")


def correct(loss: str, y: torch.Tensor, t: torch.Tensor) -> float | None:
    """How many samples are right (classification losses), None for regression."""
    if TRAINING["target"] == "one_hot":
        return float((y.argmax(dim=1) == t.argmax(dim=1)).sum())
    if loss in ("cross_entropy", "hinge"):
        return float((y.argmax(dim=1) == t).sum())
    if loss == "binary_cross_entropy":
        return float(((y > 0.5) == (t > 0.5)).float().mean(dim=tuple(range(1, y.dim()))).sum())
    return None


def added_loss(net: torch.nn.Module) -> torch.Tensor | float:
    """What layers add to the loss on the last forward pass (ActivityRegularization's
    activity penalty, Sampling's KL term), as nnengine adds them."""
    return sum((m.added_loss for m in net.modules() if hasattr(m, "added_loss")), 0.0)


def tensor(net: torch.nn.Module, path: str) -> torch.Tensor:
    owner, _, name = path.rpartition(".")
    return getattr(net.get_submodule(owner), name)


def l2_penalty(net: torch.nn.Module, l2: float) -> torch.Tensor | float:
    """l2·Σw² over nnengine's W, U and E (not biases, BatchNorm or PReLU alpha)."""
    if not l2:
        return 0.0
    return l2 * sum((tensor(net, p) ** 2).sum() for p in REGULARIZED)


def clip_gradients(params: list[torch.Tensor], clip_norm: float | None) -> None:
    """Scale every gradient by clip_norm / ‖g‖ when the global norm ‖g‖ is larger."""
    if clip_norm is None:
        return
    norm = torch.sqrt(sum((p.grad.double() ** 2).sum() for p in params if p.grad is not None))
    if norm > clip_norm:
        for p in params:
            if p.grad is not None:
                p.grad.mul_(clip_norm / norm)


def make_optimizer(params: list[torch.Tensor], settings: dict) -> torch.optim.Optimizer:
    kind = settings.get("type", "adam")
    lr = settings.get("learning_rate", 0.01 if kind == "sgd" else 0.001)
    if kind == "sgd":
        return torch.optim.SGD(params, lr=lr, momentum=settings.get("momentum", 0.0),
                               nesterov=settings.get("nesterov", False))
    if kind == "adam":
        return torch.optim.Adam(params, lr=lr, betas=(settings.get("beta1", 0.9),
                                                      settings.get("beta2", 0.999)),
                                eps=settings.get("epsilon", 1e-8))
    if kind == "rmsprop":
        return torch.optim.RMSprop(params, lr=lr, alpha=settings.get("rho", 0.99),
                                   eps=settings.get("epsilon", 1e-8))
    raise SystemExit(f"train.py: the optimizer '{kind}' has no PyTorch counterpart here")


@torch.no_grad()
def evaluate(net, xs: list[torch.Tensor], t: torch.Tensor, loss: str, l2: float) -> dict:
    """Loss (with the l2 penalty and the terms layers add, as nnengine reports it) and
    accuracy, in eval mode."""
    net.eval()
    parts, added = [], 0.0
    for i in range(0, len(t), 512):
        parts.append(forward(net, [x[i:i + 512] for x in xs], loss))
        added += float(added_loss(net)) * len(parts[-1][0])
    net.train()
    z, y = torch.cat([p[0] for p in parts]), torch.cat([p[1] for p in parts])
    out = {"loss": float(data_loss(loss, z, t) + l2_penalty(net, l2)) + added / max(len(t), 1)}
    right = correct(loss, y, t)
    if right is not None:
        out["accuracy"] = right / len(t)
    return out


# --- the run ---------------------------------------------------------------------------------
def parse_args(argv: list[str] | None) -> argparse.Namespace:
    t = TRAINING
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data", default=t["dataset"], help="data file or folder [%(default)s]")
    p.add_argument("--weights", default=str(HERE / "weights.npz"),
                   help="nnengine weights to start from [%(default)s]")
    p.add_argument("--out", default="trained.npz",
                   help="where the trained nnengine weights go [%(default)s]")
    p.add_argument("--checkpoint", default="checkpoint.pt",
                   help="checkpoint written after every epoch [%(default)s]")
    p.add_argument("--resume", action="store_true", help="carry on from --checkpoint")
    p.add_argument("--loss", default=t["loss"])
    p.add_argument("--optimizer", default=t["optimizer"]["type"])
    p.add_argument("--lr", type=float, default=t["optimizer"].get("learning_rate"))
    p.add_argument("--epochs", type=int, default=t["epochs"])
    p.add_argument("--batch-size", type=int, default=t["batch_size"],
                   help="samples per step over all processes [%(default)s]")
    p.add_argument("--validation-split", type=float, default=t["validation_split"])
    p.add_argument("--seed", type=int, default=t["seed"])
    p.add_argument("--l2", type=float, default=t["l2"])
    p.add_argument("--clip-norm", type=float, default=t["clip_norm"])
    p.add_argument("--standardize", action=argparse.BooleanOptionalAction,
                   default=t["standardize"])
    p.add_argument("--shuffle", action=argparse.BooleanOptionalAction, default=t["shuffle"])
    p.add_argument("--cpu", action="store_true", help="train on the CPU even with a GPU")
    args = p.parse_args(argv)
    if args.data is None:
        p.error("the graph names no data set: give --data FILE")
    return args


def start_processes(cpu_only: bool) -> tuple[int, int, torch.device]:
    """(rank, world size, device). Under torchrun: one process group, nccl on GPUs and gloo
    on CPUs."""
    gpu = torch.cuda.is_available() and not cpu_only
    local = int(os.environ.get("LOCAL_RANK", 0))
    if int(os.environ.get("WORLD_SIZE", 1)) > 1:
        dist.init_process_group("nccl" if gpu else "gloo")
    device = torch.device("cuda", local) if gpu else torch.device("cpu")
    if gpu:
        torch.cuda.set_device(device)
    if dist.is_initialized():
        return dist.get_rank(), dist.get_world_size(), device
    return 0, 1, device


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    rank, world, device = start_processes(args.cpu)
    say = print if rank == 0 else (lambda *a, **k: None)
    dtype = torch.float64 if DTYPE == "float64" else torch.float32
    loss_name = args.loss
    torch.manual_seed(args.seed)
    data = Path(args.data)
    if not data.is_absolute() and not data.exists() and (HERE / data).exists():
        data = HERE / data
    try:
        x, y, x_test, y_test = read_data(data)
        xs, xs_test = as_inputs(x, dtype), as_inputs(x_test, dtype)
    except (DataError, OSError, ValueError, KeyError) as e:
        raise SystemExit(f"train.py: {e}") from None
    np_float = np.float64 if DTYPE == "float64" else np.float32
    ts = targets(xs, y, loss_name, np_float)
    ts_test = targets(xs_test, y_test, loss_name, np_float)
    # The validation part: the same seeded permutation as nnengine's trainer.
    order = np.random.default_rng([args.seed, 3]).permutation(len(ts))
    n_val = int(len(ts) * args.validation_split)
    val, train = order[:n_val], np.sort(order[n_val:])

    net = Net().to(dtype)
    load_npz_weights(net, args.weights)
    if args.standardize:
        for input_id, (mean, std) in STANDARDIZED.items():
            a = xs[[i["id"] for i in INPUTS].index(input_id)][train]
            s = a.std(axis=0)
            tensor(net, mean).copy_(torch.from_numpy(a.mean(axis=0)))
            tensor(net, std).copy_(torch.from_numpy(np.where(s > 0, s, 1.0).astype(a.dtype)))
    params = [tensor(net, p) for p in TRAINABLE]
    trained = {id(p) for p in params}
    for p in net.parameters():
        p.requires_grad_(id(p) in trained)
    net.to(device)
    model = DistributedDataParallel(net) if world > 1 else net
    settings = {**TRAINING["optimizer"], "type": args.optimizer}
    if args.lr is not None:
        settings["learning_rate"] = args.lr
    optimizer = make_optimizer(params, settings)

    def to_device(arrays):
        return [torch.from_numpy(a).to(device) for a in arrays]

    train_set = TensorDataset(*[torch.from_numpy(a[train]) for a in xs],
                              torch.from_numpy(ts[train]))
    if args.batch_size % world:
        raise SystemExit(f"train.py: a batch of {args.batch_size} does not split evenly over "
                         f"{world} processes; give --batch-size a multiple of {world}")
    # Each process takes every world-th sample of one shared permutation, so a step of all
    # processes together sees the same samples as one process's step.
    sampler = DistributedSampler(train_set, num_replicas=world, rank=rank,
                                 shuffle=args.shuffle, seed=args.seed)
    loader = DataLoader(train_set, batch_size=args.batch_size // world, sampler=sampler)
    x_val, t_val = to_device([a[val] for a in xs]), torch.from_numpy(ts[val]).to(device)

    history, first = [], 1
    checkpoint = Path(args.checkpoint)
    if args.resume and not checkpoint.exists():
        say(f"no checkpoint {checkpoint} to resume from: starting from {args.weights}")
    if args.resume and checkpoint.exists():
        state = torch.load(checkpoint, map_location=device, weights_only=True)
        net.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        torch.set_rng_state(state["rng"])
        history, first = state["history"], state["epoch"] + 1
        say(f"resumed from {checkpoint} after epoch {state['epoch']}")
    say(f"training on {len(train)} samples ({len(val)} for validation), {world} "
        f"process{'es' if world > 1 else ''} on {device.type}")

    for epoch in range(first, args.epochs + 1):
        sampler.set_epoch(epoch)
        totals = torch.zeros(3, dtype=torch.float64, device=device)  # loss, correct, samples
        for *xb, tb in loader:
            xb, tb = [a.to(device) for a in xb], tb.to(device)
            optimizer.zero_grad(set_to_none=True)
            z, yb = forward(model, xb, loss_name)
            loss = data_loss(loss_name, z, tb) + l2_penalty(net, args.l2) + added_loss(net)
            loss.backward()
            clip_gradients(params, args.clip_norm)
            optimizer.step()
            right = correct(loss_name, yb.detach(), tb)
            totals += torch.tensor([float(loss.detach()) * len(tb), right or 0.0, len(tb)],
                                   dtype=torch.float64, device=device)
        if world > 1:
            dist.all_reduce(totals)
        logs = {"epoch": epoch, "loss": float(totals[0] / totals[2])}
        if classifies(loss_name):
            logs["accuracy"] = float(totals[1] / totals[2])
        if rank == 0 and len(val):
            logs.update({f"val_{k}": v for k, v in
                         evaluate(net, x_val, t_val, loss_name, args.l2).items()})
        history.append(logs)
        say(f"epoch {epoch}/{args.epochs}: {json.dumps(logs)}", flush=True)
        if rank == 0:
            state = {"epoch": epoch, "model": net.state_dict(), "history": history,
                     "optimizer": optimizer.state_dict(), "rng": torch.get_rng_state()}
            torch.save(state, f"{checkpoint}.tmp")
            os.replace(f"{checkpoint}.tmp", checkpoint)

    # The DDP wrapper holds the process group (its reducer's threads): gone before the group
    # is, not after it at the function's end (that order aborted a rank now and then).
    del model
    if rank == 0:
        test = evaluate(net, to_device(xs_test), torch.from_numpy(ts_test).to(device),
                        loss_name, args.l2)
        print(f"test: {json.dumps(test)}")
        save_npz_weights(net, args.out)
        Path(args.out).with_suffix(".json").write_text(json.dumps(history, indent=1))
        print(f"wrote {args.out} (nnengine weights) and its history "
              f"{Path(args.out).with_suffix('.json')}")
    if dist.is_initialized():
        dist.barrier()  # every rank waits for rank 0's evaluation and files: a rank that
        dist.destroy_process_group()  # tore gloo down while rank 0 still wrote could abort
        # Gloo's threads outlive the group and may still be letting go of the last
        # collectives' tensors, which needs the interpreter: while it shuts down, that aborts
        # the process ("terminate called without an active exception", one run in 15-40
        # on CPU). Every file is written and closed by now, so leave without the shutdown.
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(0)
    return 0


if __name__ == "__main__":
    sys.exit(main())
'''


def train_script(name: str, class_name: str, settings: dict[str, Any]) -> str:
    """train.py's text for a model: `settings` become the module constants of its top block
    (TRAINING, INPUTS, OUTPUT, DTYPE, TRAINABLE, REGULARIZED, STANDARDIZED)."""
    lines = []
    for key, value in settings.items():
        text = pprint.pformat(value, width=88, sort_dicts=False)
        lines.append(f"{key} = {text}")
    block = "\n".join(lines) + "\n"
    quoted = repr(name).replace('"', '\\"')  # it goes inside a docstring
    text = TRAIN_SCRIPT.replace("@NAME@", quoted).replace("@CLASS@", class_name)
    return text.replace(SETTINGS_MARK, block)
