"""The lesson views, on real runs in the training process: nearest words for an Embedding
(typed, clicked, updated while training), the VAE's decoded grid and random codes, the
regression fit over the data, and the loss-term curves beside the data loss."""
from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt

from designer.training.states import TrainingState
from tests.designer.test_training import run, template, wait_for  # noqa: F401  (fixture)


def finished(c) -> bool:
    return c.wait(90_000) and c.state == TrainingState.FINISHED


def test_nearest_words_for_an_embedding_while_and_after_training(qtbot, run):  # noqa: F811
    c, dash = run(template("skipgram", epochs=3))
    c.start()
    wait_for(qtbot, lambda: c.snapshot is not None, 60_000)
    dash.show_node("word_vectors")
    view = dash.nearest_words
    assert dash.tabs.currentWidget() is view
    assert finished(c)
    view.refresh()
    assert not view.showing_message and view.word.text() == "cat"
    assert len(view.shown) == 10 and "cat" not in [w for w, _ in view.shown]
    sims = [s for _, s in view.shown]
    assert sims == sorted(sims, reverse=True) and all(-1 <= s <= 1 for s in sims)
    view.word.clear()
    qtbot.keyClicks(view.word, "king")
    qtbot.keyClick(view.word, Qt.Key.Key_Return)
    view.refresh()
    assert "“king”" in view.plot.getPlotItem().titleLabel.text
    first = view.shown[0][0]
    view.look_up(first)                         # what clicking a bar does
    view.refresh()
    assert view.word.text() == first and first not in [w for w, _ in view.shown]
    view.look_up("zebra")
    view.refresh()
    assert "'zebra' is not in the vocabulary" in view.note.text()
    assert view.picker.nodes() == ["word_vectors", "context_vectors"]


def test_vae_generates_a_grid_and_random_digits_and_draws_the_kl_curve(qtbot, run):  # noqa: F811
    c, dash = run(template("vae", epochs=3))
    c.start()
    assert finished(c)
    dash.show_node("code")
    assert dash.tabs.currentWidget() is dash.generated
    dash.refresh_all()
    grid = dash.generated.grid_image.image
    assert grid.shape == (11 * 9 - 1, 11 * 9 - 1)            # 11 x 11 digits of 8 x 8, gaps
    cells = [grid[r * 9:r * 9 + 8, col * 9:col * 9 + 8] for r in (0, 10) for col in (0, 10)]
    assert max(np.abs(a - b).mean() for a in cells for b in cells) > 0.02   # codes matter
    assert dash.generated.random_image.image.shape == (4 * 9 - 1, 4 * 9 - 1)
    terms = dash.loss_terms
    assert not terms.showing_message and set(terms.curves) == {
        "binary_cross_entropy", "val_binary_cross_entropy", "kl", "val_kl"}
    x, y = terms.curves["kl"].getData()
    assert len(x) == 3 and np.all(np.isfinite(y))   # drawn on a log axis
    assert dash.tabs.isTabVisible(dash.tabs.indexOf(dash.generated))
    assert not dash.tabs.isTabVisible(dash.tabs.indexOf(dash.nearest_words))


def test_regression_fit_follows_the_sine(qtbot, run):  # noqa: F811
    c, dash = run(template("sine_regression", epochs=40))
    c.start()
    assert finished(c)
    dash.show_node("y")
    assert dash.tabs.currentWidget() is dash.fit
    dash.fit.refresh()
    x, y = dash.fit.curve.getData()
    assert len(x) == 240 and x[0] < -3 and x[-1] > 3
    assert np.mean((y - np.sin(x)) ** 2) < 0.05               # the curve is the sine
    assert len(dash.fit.points.data) == 240     # the training split (300 less validation)
    assert not dash.tabs.isTabVisible(dash.tabs.indexOf(dash.loss_terms))


def test_sparse_penalty_is_its_own_curve(qtbot, run):  # noqa: F811
    c, dash = run(template("sparse_autoencoder", epochs=2))
    c.start()
    assert finished(c)
    dash.loss_terms.refresh()
    assert {"mse", "activity"} <= set(dash.loss_terms.curves)
    assert not dash.tabs.isTabVisible(dash.tabs.indexOf(dash.fit))
