"""Word-vector data sets (word2vec): skip-gram pairs with negative sampling, and CBOW
contexts, from the small shipped corpus or from any text file a user gives.

Both keep their test split honest: a skip-gram test pair (either order) never occurs in
training, as a positive or a negative; a CBOW test context (its words, in order) never
occurs in training. So test accuracy measures what the vectors generalise, not what they
memorised. Word ids run by falling frequency (ties alphabetically); `vocabulary[i]` is the
word with id i. Settings are given as `skipgram(window=3, negatives=5, text=notes.txt)`.
"""
from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import numpy as np

from ..errors import DatasetError
from ..word_vectors import PAD
from .base import Dataset, read_bytes

SEED = 1234
RELATED = (("cat", "dog"), ("king", "queen"), ("two", "three"), ("winter", "summer"),
           ("red", "green"), ("teacher", "student"))
"""Word pairs the shipped corpus uses alike: good vectors put each pair close together."""

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
The cat eats fish and the dog eats meat. The cat plays with the dog in the garden.
A dog runs after the cat. A cat runs after the mouse. The mouse eats cheese.
The small dog barks at the big cat. The big cat sleeps on the warm mat.
The king sits on the throne in the castle. The queen sits beside the king.
The prince and the princess play in the castle garden. The prince will be king.
The princess will be queen. The king gives the prince a crown.
The queen gives the princess a crown. The kingdom loves the king and the queen.
I eat an apple and a banana. She eats bread with cheese. We eat soup for dinner.
He drinks milk with bread. Apples and bananas are fruit. Bread and cheese are food.
The red apple is sweet. The yellow banana is sweet. The green apple is sour.
The flowers are red and yellow. The sky is blue and the leaves are green.
Blue and green and red and yellow are colours. The car is red and the bus is yellow.
One and two make three. Two and three make five. Three and three make six.
Four plus one makes five. One plus one makes two. Six is more than three.
The car drives to the city. The bus drives to the station. The train goes to the city.
The plane flies to the city. The boat sails to the sea. The car and the bus stop at the station.
The teacher reads a book. The student reads a book at school. The children write at school.
The teacher teaches the children. The student writes a story with a pen.
It is cold in winter and warm in summer. It rains in spring and snows in winter.
"""


def sentences_of(text: str) -> list[list[str]]:
    """Lower-case words per sentence; sentences end at . ! ? ; or a blank line."""
    parts = re.split(r"[.!?;]+|\n\s*\n", text.lower())
    words = (re.findall(r"[^\W\d_]+(?:'[^\W\d_]+)?", p) for p in parts)
    return [w for w in words if w]


def read_text(text: str | None, base_dir: str | Path | None = None) -> tuple[str, str]:
    """(the text, where it came from): the shipped corpus for None, else the file's text."""
    if text is None:
        return CORPUS, "built in"
    path = Path(text)
    if base_dir is not None and not path.is_absolute():
        path = Path(base_dir) / path
    if not path.is_file():
        raise DatasetError(f"{text}: no such text file")
    raw = read_bytes(path)
    try:
        return raw.decode("utf-8-sig"), str(path)
    except UnicodeDecodeError:
        return raw.decode("latin-1"), str(path)


def _vocabulary(sentences: list[list[str]], min_count: int, source: str,
                reserved: tuple[str, ...] = ()) -> tuple[list[str], np.ndarray]:
    """(words by falling frequency after `reserved`, count of each word)."""
    counts = Counter(w for s in sentences for w in s)
    kept = sorted((w for w, c in counts.items() if c >= min_count), key=lambda w: (-counts[w], w))
    if len(kept) < 2:
        raise DatasetError(f"{source}: has {len(kept)} word(s) seen at least {min_count} "
                           "times; word vectors need a text with at least two")
    vocabulary = [*reserved, *kept]
    return vocabulary, np.array([counts.get(w, 0) for w in vocabulary], dtype=np.float64)


def _check_settings(window: int, min_count: int, negatives: int = 1) -> None:
    for name, value, lowest in (("window", window, 1), ("min_count", min_count, 1),
                                ("negatives", negatives, 1)):
        if isinstance(value, bool) or not isinstance(value, int) or value < lowest:
            raise DatasetError(f"setting '{name}' must be a whole number >= {lowest}, "
                               f"received {value!r}")


def _token_ids(sentences, ids: dict[str, int]) -> list[np.ndarray]:
    """Each sentence as an array of word ids, words outside the vocabulary dropped."""
    out = [np.array([ids[w] for w in s if w in ids], dtype=np.int64) for s in sentences]
    return [t for t in out if len(t)]


def _draw(rng, size: int, p: np.ndarray, targets: np.ndarray, banned: np.ndarray
          ) -> np.ndarray:
    """One word per target from distribution p, never making a pair whose key
    (target * size + word) is in `banned` (sorted); targets with no allowed word left
    get -1. Redraws only the clashes."""
    words = rng.choice(size, size=len(targets), p=p)
    for _ in range(100):
        clash = np.isin(targets * size + words, banned)
        if not clash.any():
            return words
        words[clash] = rng.choice(size, size=int(clash.sum()), p=p)
    words[np.isin(targets * size + words, banned)] = -1
    return words


def skipgram(window: int = 2, negatives: int = 5, min_count: int = 1, text: str | None = None,
             test_fraction: float = 0.2, base_dir: str | Path | None = None) -> Dataset:
    """Skip-gram pairs with negative sampling.

    x: [targets, contexts], each (pairs,) int64 word ids (two Input nodes of shape [1],
    dtype int64); y: 1 for a word within `window` words of the target in a sentence, 0 for
    a negative: `negatives` per true pair in training, drawn from frequency^0.75 as
    word2vec does, never a true neighbour (clean labels for a small corpus). A share
    `test_fraction` of the distinct word pairs (both orders together) is held out; the test
    split has each held-out pair once and one unseen negative per pair, so chance is 50%."""
    _check_settings(window, min_count, negatives)
    corpus, source = read_text(text, base_dir)
    sentences = sentences_of(corpus)
    vocabulary, counts = _vocabulary(sentences, min_count, source)
    size = len(vocabulary)
    tokens = _token_ids(sentences, {w: i for i, w in enumerate(vocabulary)})
    pos = _window_pairs(tokens, window)
    if not len(pos):
        raise DatasetError(f"{source}: no two words share a sentence; nothing to learn from")
    rng = np.random.default_rng(SEED)
    lo, hi = np.minimum(pos[:, 0], pos[:, 1]), np.maximum(pos[:, 0], pos[:, 1])
    unordered = np.unique(lo * size + hi)
    held = rng.permutation(unordered)[:round(len(unordered) * test_fraction)]
    in_test = np.isin(lo * size + hi, held)
    train_pos = pos[~in_test]
    test_pos = np.unique(pos[in_test][:, 0] * size + pos[in_test][:, 1])
    test_pos = np.c_[test_pos // size, test_pos % size]
    neighbours = np.unique(np.r_[pos[:, 0] * size + pos[:, 1], pos[:, 1] * size + pos[:, 0]])
    p = counts ** 0.75
    p /= p.sum()
    test_neg = _draw(rng, size, p, test_pos[:, 0], neighbours)
    keep = test_neg >= 0
    test_t = np.r_[test_pos[:, 0], test_pos[keep, 0]]
    test_c = np.r_[test_pos[:, 1], test_neg[keep]]
    test_y = np.r_[np.ones(len(test_pos), np.int64), np.zeros(int(keep.sum()), np.int64)]
    unseen = np.unique(np.r_[neighbours, test_t * size + test_c, test_c * size + test_t])
    neg_t = np.repeat(train_pos[:, 0], negatives)
    neg_c = _draw(rng, size, p, neg_t, unseen)
    keep = neg_c >= 0
    t = np.r_[train_pos[:, 0], neg_t[keep]]
    c = np.r_[train_pos[:, 1], neg_c[keep]]
    y = np.r_[np.ones(len(train_pos), np.int64), np.zeros(int(keep.sum()), np.int64)]
    order, test_order = rng.permutation(len(y)), rng.permutation(len(test_y))
    return Dataset("skipgram", [t[order], c[order]], y[order],
                   [test_t[test_order], test_c[test_order]], test_y[test_order],
                   "classification", 2, ["unrelated", "neighbours"], vocabulary=vocabulary,
                   source=source)


def _window_pairs(tokens: list[np.ndarray], window: int) -> np.ndarray:
    """(pairs, 2): (word, neighbour) for every neighbour within `window` in a sentence."""
    out = []
    for ids in tokens:
        for d in range(1, min(window, len(ids) - 1) + 1):
            out += [np.c_[ids[:-d], ids[d:]], np.c_[ids[d:], ids[:-d]]]
    return np.concatenate(out) if out else np.zeros((0, 2), np.int64)


def cbow(window: int = 2, min_count: int = 1, text: str | None = None,
         test_fraction: float = 0.2, base_dir: str | Path | None = None) -> Dataset:
    """Continuous bag of words: the `window` words on each side of a word -> that word.

    x: (samples, 2·window) int64 context ids (an Input of that shape, dtype int64), with
    `<pad>` (id 0) past a sentence's ends; y: the centre word's id, a class label among all
    words (so the output layer has one unit per word of `vocabulary`). A share
    `test_fraction` of the distinct contexts is held out: every sample with a held-out
    context is a test sample (once each), so no test context occurs in training."""
    _check_settings(window, min_count)
    corpus, source = read_text(text, base_dir)
    sentences = sentences_of(corpus)
    vocabulary, _ = _vocabulary(sentences, min_count, source, reserved=(PAD,))
    tokens = _token_ids(sentences, {w: i for i, w in enumerate(vocabulary)})
    rows = []
    for ids in tokens:
        padded = np.r_[np.zeros(window, np.int64), ids, np.zeros(window, np.int64)]
        wins = np.lib.stride_tricks.sliding_window_view(padded, 2 * window + 1)
        rows.append(wins)
    samples = np.concatenate(rows)
    x = np.delete(samples, window, axis=1)
    y = samples[:, window]
    contexts, which = np.unique(x, axis=0, return_inverse=True)
    rng = np.random.default_rng(SEED)
    held = rng.permutation(len(contexts))[:round(len(contexts) * test_fraction)]
    in_test = np.isin(which.reshape(-1), held)
    test = np.unique(samples[in_test], axis=0)
    order = rng.permutation(int((~in_test).sum()))
    x_test, y_test = np.delete(test, window, axis=1), test[:, window]
    test_order = rng.permutation(len(y_test))
    return Dataset("cbow", x[~in_test][order], y[~in_test][order], x_test[test_order],
                   y_test[test_order], "classification", len(vocabulary), list(vocabulary),
                   vocabulary=vocabulary, source=source)


BUILTIN = {"skipgram": skipgram, "cbow": cbow}
