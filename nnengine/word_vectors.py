"""What word vectors learned: a word's nearest words by cosine similarity of the rows of an
Embedding's table E (vocab_size, dim). Used by the app's nearest-words view and the lesson
checks; no Qt."""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np

PAD = "<pad>"


def cosine_similarities(E: np.ndarray, row: int) -> np.ndarray:
    """(vocab_size,) cosine similarity of every row of E with row `row` (0 for a zero row)."""
    E = np.asarray(E, dtype=np.float64)
    norms = np.linalg.norm(E, axis=1)
    norms[norms == 0] = 1.0
    return (E @ E[row]) / (norms * norms[row])


def nearest_words(E: np.ndarray, vocabulary: Sequence[str], word: str | int, k: int = 8
                  ) -> list[tuple[str, float]]:
    """The `k` words most similar to `word` (a word or its id), best first, with their
    cosine similarities; the word itself and CBOW's `<pad>` are left out. Rows of E beyond
    the vocabulary (a vocab_size larger than needed) are ignored."""
    n = min(len(vocabulary), len(E))
    row = vocabulary.index(word) if isinstance(word, str) else int(word)
    if not 0 <= row < n:
        raise KeyError(f"'{word}' is not in the vocabulary")
    sims = cosine_similarities(E[:n], row)
    sims[row] = -np.inf
    if vocabulary[0] == PAD:
        sims[0] = -np.inf
    order = np.argsort(-sims, kind="stable")[:k]
    return [(vocabulary[i], float(sims[i])) for i in order if np.isfinite(sims[i])]


def related_found(E: np.ndarray, vocabulary: Sequence[str],
                  pairs: Sequence[tuple[str, str]], k: int = 5) -> float:
    """Share of (word, partner) pairs whose partner is among the word's `k` nearest words
    (pairs with a word outside the vocabulary are skipped)."""
    known = [(a, b) for a, b in pairs if a in vocabulary and b in vocabulary]
    if not known:
        return 0.0
    hits = sum(b in {w for w, _ in nearest_words(E, vocabulary, a, k)} for a, b in known)
    return hits / len(known)
