"""Built-in synthetic data sets, generated with NumPy from a fixed seed (so the train/test
split never changes): 2-D classification sets for decision boundaries, `sine`, a sequence
task for recurrent layers and skip-gram pairs from a tiny corpus for word embeddings."""
from __future__ import annotations

import re
from collections import Counter

import numpy as np

from .base import Dataset, split

SEED = 1234


def _classification(name: str, x: np.ndarray, y: np.ndarray, test_fraction=0.25) -> Dataset:
    x = x.astype(np.float32)
    y = y.astype(np.int64)
    xtr, ytr, xte, yte = split(x, y, test_fraction, SEED)
    k = int(y.max()) + 1
    return Dataset(name, xtr, ytr, xte, yte, "classification", k, [str(i) for i in range(k)])


def xor() -> Dataset:
    """The four XOR corners, repeated, with a little noise (train) and exact corners (test)."""
    corners = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=np.float32)
    labels = np.array([0, 1, 1, 0], dtype=np.int64)
    rng = np.random.default_rng(SEED)
    reps = 50
    x = np.repeat(corners, reps, axis=0) + rng.normal(0, 0.05, (4 * reps, 2))
    y = np.repeat(labels, reps)
    order = rng.permutation(len(x))
    return Dataset("xor", x[order].astype(np.float32), y[order], corners.copy(), labels.copy(),
                   "classification", 2, ["0", "1"])


def circles(n: int = 600) -> Dataset:
    rng = np.random.default_rng(SEED)
    y = rng.integers(0, 2, n)
    angle = rng.uniform(0, 2 * np.pi, n)
    radius = np.where(y == 0, 1.0, 0.5) + rng.normal(0, 0.08, n)
    return _classification("circles", np.c_[radius * np.cos(angle), radius * np.sin(angle)], y)


def moons(n: int = 600) -> Dataset:
    rng = np.random.default_rng(SEED)
    y = rng.integers(0, 2, n)
    t = rng.uniform(0, np.pi, n)
    x = np.where(y[:, None] == 0, np.c_[np.cos(t), np.sin(t)],
                 np.c_[1 - np.cos(t), 0.5 - np.sin(t)])
    return _classification("moons", x + rng.normal(0, 0.1, (n, 2)), y)


def spirals(n: int = 600, turns: float = 1.5) -> Dataset:
    """Two interleaved spirals, the classic test of a non-linear boundary."""
    rng = np.random.default_rng(SEED)
    y = np.repeat([0, 1], n // 2)
    t = np.sqrt(rng.uniform(0, 1, n)) * turns * 2 * np.pi
    r = t / (turns * 2 * np.pi)
    angle = t + np.pi * y
    x = np.c_[r * np.cos(angle), r * np.sin(angle)] + rng.normal(0, 0.02, (n, 2))
    return _classification("spirals", x, y)


def blobs(n: int = 600, k: int = 3) -> Dataset:
    rng = np.random.default_rng(SEED)
    centers = np.array([[np.cos(a), np.sin(a)] for a in np.linspace(0, 2 * np.pi, k,
                                                                     endpoint=False)])
    y = rng.integers(0, k, n)
    return _classification("blobs", centers[y] + rng.normal(0, 0.3, (n, 2)), y)


def separable(n: int = 400) -> Dataset:
    """Two clusters that a straight line separates with a clear margin: the data a
    perceptron is guaranteed to learn (Rosenblatt's convergence theorem)."""
    rng = np.random.default_rng(SEED)
    y = rng.integers(0, 2, n)
    x = rng.normal(0, 0.35, (n, 2)) + np.where(y[:, None] == 1, [1.0, 0.6], [-1.0, -0.6])
    gap = x @ np.array([1.0, 0.6]) * np.where(y == 1, 1, -1)
    keep = gap > 0.3  # a margin: no point within 0.3 (along the normal) of the line
    return _classification("separable", x[keep], y[keep])


def recall(n: int = 1200, steps: int = 50) -> Dataset:
    """Long memory: was the first value of a `steps`-step sequence positive?

    x: (n, steps, 2) float32: channel 0 is noise N(0, 1) at every step, channel 1 marks the
    first step with 1. Only step 0 decides the label, so the network must carry one number
    across the 49 steps after it: a SimpleRNN's gradient fades on that way back, an LSTM's
    cell keeps it."""
    rng = np.random.default_rng(SEED)
    x = np.zeros((n, steps, 2), dtype=np.float32)
    x[:, :, 0] = rng.normal(0, 1.0, (n, steps))
    x[:, 0, 1] = 1.0
    y = (x[:, 0, 0] > 0).astype(np.int64)
    xtr, ytr, xte, yte = split(x, y, 0.25, SEED)
    return Dataset("recall", xtr, ytr, xte, yte, "classification", 2,
                   ["first negative", "first positive"])


def sine(n: int = 400) -> Dataset:
    """Regression: y = sin(x) with noise, x in [-π, π]."""
    rng = np.random.default_rng(SEED)
    x = rng.uniform(-np.pi, np.pi, (n, 1)).astype(np.float32)
    y = (np.sin(x) + rng.normal(0, 0.05, (n, 1))).astype(np.float32)
    xtr, ytr, xte, yte = split(x, y, 0.25, SEED)
    return Dataset("sine", xtr, ytr, xte, yte, "regression")


def sequences(n: int = 1200, steps: int = 20) -> Dataset:
    """Is the sum of a noisy sequence positive? x: (n, steps, 1) float32, y: 0/1.

    Each sequence is a small drift plus noise, so no single step decides the label: a
    recurrent layer has to accumulate over time (a small LSTM or SimpleRNN learns it)."""
    rng = np.random.default_rng(SEED)
    drift = rng.normal(0, 0.25, (n, 1, 1))
    x = (drift + rng.normal(0, 1.0, (n, steps, 1))).astype(np.float32)
    y = (x.sum(axis=(1, 2)) > 0).astype(np.int64)
    xtr, ytr, xte, yte = split(x, y, 0.25, SEED)
    return Dataset("sequences", xtr, ytr, xte, yte, "classification", 2, ["negative", "positive"])


CORPUS = """
The cat sat on the mat. The dog sat on the rug. A cat chased a mouse in the house.
The dog chased the cat around the garden. The mouse ran under the bed.
A small cat sleeps in the warm sun. A big dog sleeps by the door.
The cat drinks milk and the dog drinks water. Cats and dogs are pets.
The king rules the kingdom from the castle. The queen rules the kingdom with the king.
A prince and a princess live in the castle. The king and the queen wear a crown.
The queen speaks to the prince. The princess rides a horse to the castle.
I eat an apple in the morning. She eats a banana after lunch.
We eat bread and cheese for lunch. He eats soup and bread for dinner.
Fresh fruit like apples and bananas is sweet. Cheese and bread taste good together.
The sky is blue and the grass is green. Red roses and yellow flowers grow in the garden.
The sun is yellow and the sea is blue. Green leaves fall from the tree in autumn.
One plus two makes three. Two plus two makes four. Three and four are numbers.
Five is more than four and six is more than five. Count one two three four five six.
The train leaves the station in the morning. A car drives on the road to the city.
The bus stops near the station. A plane flies over the city and the sea.
The boat sails on the blue sea. We drive the car to the station.
Children read books at school. The teacher reads a story to the children.
A student writes a letter with a pen. The teacher writes on the board at school.
It rains in autumn and it snows in winter. The sun shines in summer.
Winter is cold and summer is warm. Spring brings flowers and rain.
"""


def skipgram(window: int = 2, negatives: int = 2, passes: int = 5) -> Dataset:
    """Skip-gram pairs with negative sampling from the small built-in `CORPUS`.

    x: [targets, contexts], each (pairs,) int64 word ids (two Input nodes of shape [1],
    dtype int64); y: 1 for a word seen within `window` words of the target, 0 for
    `negatives` random words per true pair, drawn from unigram frequency^0.75 as word2vec
    does, but never a word that is ever the target's neighbour (clean labels for so small
    a corpus). The corpus is walked `passes` times with fresh negatives, as word2vec's
    epochs would, so that most test pairs are co-occurrences the model has seen.
    `vocabulary[i]` is the word with id i (ids by falling frequency)."""
    sentences = [re.findall(r"[a-z]+", s.lower()) for s in re.split(r"[.!?]", CORPUS)]
    sentences = [s for s in sentences if s]
    counts = Counter(w for s in sentences for w in s)
    vocabulary = sorted(counts, key=lambda w: (-counts[w], w))
    ids = {w: i for i, w in enumerate(vocabulary)}
    size = len(vocabulary)
    pairs = []
    for words in sentences:
        tokens = [ids[w] for w in words]
        for i, t in enumerate(tokens):
            for j in range(max(0, i - window), min(len(tokens), i + window + 1)):
                if j != i:
                    pairs.append((t, tokens[j]))
    pos = np.tile(np.array(pairs, dtype=np.int64), (passes, 1))
    neighbours = np.unique(pos[:, 0] * size + pos[:, 1])
    rng = np.random.default_rng(SEED)
    freq = np.array([counts[w] for w in vocabulary], dtype=np.float64) ** 0.75
    neg_target = np.repeat(pos[:, 0], negatives)
    neg_context = rng.choice(size, size=len(neg_target), p=freq / freq.sum())
    clash = np.isin(neg_target * size + neg_context, neighbours)
    while clash.any():  # redraw negatives that happen to be true neighbours
        neg_context[clash] = rng.choice(size, size=int(clash.sum()), p=freq / freq.sum())
        clash = np.isin(neg_target * size + neg_context, neighbours)
    targets = np.concatenate([pos[:, 0], neg_target])
    contexts = np.concatenate([pos[:, 1], neg_context])
    y = np.concatenate([np.ones(len(pos), np.int64), np.zeros(len(neg_context), np.int64)])
    order = rng.permutation(len(y))
    targets, contexts, y = targets[order], contexts[order], y[order]
    n_test = len(y) // 5
    return Dataset("skipgram", [targets[n_test:], contexts[n_test:]], y[n_test:],
                   [targets[:n_test], contexts[:n_test]], y[:n_test], "classification", 2,
                   ["unrelated", "neighbours"], vocabulary=vocabulary)


BUILTIN = {"xor": xor, "circles": circles, "moons": moons, "spirals": spirals,
           "blobs": blobs, "separable": separable, "sine": sine, "sequences": sequences,
           "recall": recall, "skipgram": skipgram}
