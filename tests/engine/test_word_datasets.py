"""Word-vector data sets: skip-gram pairs and CBOW contexts from the shipped corpus or a
user's text file, their settings, and test splits that never occur in training."""
from __future__ import annotations

import numpy as np
import pytest

import nnengine as nn
from nnengine.datasets import load_dataset
from nnengine.datasets.words import PAD, sentences_of
from nnengine.errors import DatasetError

STORY = ("The fox jumps over the lazy dog. The dog sleeps.\n\n"
         "A quick fox runs; the lazy dog sleeps again! Foxes and dogs")


def pair_codes(t: np.ndarray, c: np.ndarray, size: int) -> np.ndarray:
    return t * size + c


@pytest.mark.parametrize("spec", ["skipgram", "skipgram(window=1, negatives=2)",
                                  "skipgram(window=4, negatives=5)"])
def test_skipgram_test_pairs_never_occur_in_training_in_either_order(spec):
    d = load_dataset(spec)
    size = len(d.vocabulary)
    (t, c), (tt, tc) = d.x_train, d.x_test
    assert t.dtype == c.dtype == np.int64 and max(c.max(), tc.max()) < size
    train = set(pair_codes(t, c, size)) | set(pair_codes(c, t, size))
    assert not train & set(pair_codes(tt, tc, size))
    assert 0.45 < d.y_test.mean() < 0.55   # one unseen negative per held-out pair
    positives = set(pair_codes(t, c, size)[d.y_train == 1])
    assert not positives & set(pair_codes(t, c, size)[d.y_train == 0])   # clean labels


def test_skipgram_window_and_negatives_are_settings():
    narrow = load_dataset("skipgram(window=1, negatives=2)")
    wide = load_dataset("skipgram(window=3, negatives=5)")
    n_pos = [int(d.y_train.sum()) for d in (narrow, wide)]
    assert n_pos[1] > 2 * n_pos[0]           # a wider window gives more true pairs
    for d, k in ((narrow, 2), (wide, 5)):    # k negatives per true pair (a few dropped)
        ratio = (d.y_train == 0).sum() / d.y_train.sum()
        assert k - 0.05 < ratio <= k
    cat, sat = narrow.vocabulary.index("cat"), narrow.vocabulary.index("sat")
    t, c = narrow.x_train
    codes = set(pair_codes(t, c, len(narrow.vocabulary))[narrow.y_train == 1]) | set(
        pair_codes(*narrow.x_test, len(narrow.vocabulary))[narrow.y_test == 1])
    assert cat * len(narrow.vocabulary) + sat in codes or \
        sat * len(narrow.vocabulary) + cat in codes


def test_cbow_contexts_and_unseen_test_contexts():
    d = load_dataset("cbow(window=2)")
    assert d.vocabulary[0] == PAD and d.num_classes == len(d.vocabulary) == len(d.class_names)
    assert d.x_train.shape[1:] == (4,) and d.x_train.dtype == np.int64
    train = {tuple(r) for r in d.x_train}
    assert not train & {tuple(r) for r in d.x_test}
    cat = d.vocabulary.index("cat")
    the, sat = d.vocabulary.index("the"), d.vocabulary.index("sat")
    rows = np.r_[d.x_train, d.x_test][np.r_[d.y_train, d.y_test] == cat]
    assert any(r[1] == the and r[2] == sat for r in rows)   # "... the [cat] sat on ..."
    wide = load_dataset("cbow(window=3)")
    assert wide.x_train.shape[1:] == (6,)


def test_text_file_relative_to_the_graph_folder(tmp_path):
    (tmp_path / "story.txt").write_text(STORY, encoding="utf-8")
    d = load_dataset("skipgram(text=story.txt, window=2, negatives=3)", base_dir=tmp_path)
    assert d.source == str(tmp_path / "story.txt")
    assert d.vocabulary[:3] == ["the", "dog", "fox"] and "foxes" in d.vocabulary
    c = load_dataset("cbow(text=story.txt, window=1, min_count=2)", base_dir=tmp_path)
    assert set(c.vocabulary) == {PAD, "the", "dog", "fox", "lazy", "sleeps"}
    assert sentences_of(STORY)[2] == ["a", "quick", "fox", "runs"]


def test_a_skipgram_model_trains_on_a_user_text(tmp_path):
    (tmp_path / "story.txt").write_text(STORY * 3, encoding="utf-8")
    d = load_dataset(str(tmp_path / "story.txt").join(["skipgram(text=", ")"]))
    g = nn.load_graph("resources/templates/skipgram.json")
    for node in ("word_vectors", "context_vectors"):
        g.set_params(node, {"vocab_size": len(d.vocabulary), "dim": 4})
    model = nn.compile_model(g, seed=0)
    history = nn.fit(model, d, loss="binary_cross_entropy", epochs=3, validation_split=0.0)
    assert history.last("loss") < 0.7


@pytest.mark.parametrize("spec, words", [
    ("skipgram(windows=3)", ["no setting 'windows'", "window, negatives"]),
    ("cbow(window=0)", ["'window' must be a whole number >= 1", "received 0"]),
    ("skipgram(window)", ["'window' is not of the form name=value"]),
    ("skipgram(text=missing.txt)", ["missing.txt: no such text file"]),
    ("story.txt", ["skipgram(text=story.txt) or cbow(text=story.txt)"]),
])
def test_bad_settings_say_what_is_wrong(spec, words, tmp_path):
    (tmp_path / "story.txt").write_text(STORY)
    with pytest.raises(DatasetError) as e:
        load_dataset(spec, base_dir=tmp_path)
    assert all(w in str(e.value) for w in words), str(e.value)


def test_a_text_without_word_pairs_is_refused(tmp_path):
    (tmp_path / "one.txt").write_text("Hello. Hello. 123")
    with pytest.raises(DatasetError, match="one.txt: has 1 word"):
        load_dataset("cbow(text=one.txt)", base_dir=tmp_path)
