"""What the lesson views need from the model, computed where the model lives (the training
process) and sent with each snapshot as plain arrays: every Embedding's word vectors, a
VAE's decoded codes, a 1-D regression's fitted curve. No Qt."""
from __future__ import annotations

from typing import Any

import numpy as np

from nnengine import Model, NNEngineError
from nnengine.subgraph import run_from

GRID = 11            # decoded grid: GRID x GRID codes over two code dimensions
GRID_SPAN = 2.0      # from -GRID_SPAN to +GRID_SPAN standard deviations
RANDOM_CODES = 16    # codes drawn from N(0, 1) (a fixed draw, so only the decoder changes)
FIT_POINTS = 240     # x values along a fitted curve
MAX_POINTS = 1000    # data points drawn under the fitted curve


class LessonViews:
    """Extras for one model and data set; `describe()` once per run, `extras()` per
    snapshot."""

    def __init__(self, model: Model, x_train: list[np.ndarray], y_train: np.ndarray,
                 vocabulary: list[str] | None, regression: bool):
        self.model = model
        types = model.analysis.layers
        self.embeddings = [n for n in model.analysis.order
                           if types[n].spec.type == "Embedding"] if vocabulary else []
        self.vocabulary = vocabulary
        sampling = [n for n in model.analysis.order if types[n].spec.type == "Sampling"]
        self.code_node = sampling[0] if sampling else None
        self.codes = None
        if self.code_node is not None:
            width = int(np.prod(model.shapes[self.code_node]))
            self.codes = _grid_codes(width, model.shapes[self.code_node])
            rng = np.random.default_rng(2024)
            self.random_codes = rng.standard_normal((RANDOM_CODES, width)).reshape(
                (RANDOM_CODES, *model.shapes[self.code_node]))
        self.fit_x = self.fit_points = None
        one_in = len(model.input_ids) == 1 and model.shapes[model.input_ids[0]] == (1,)
        if regression and one_in and model.output_shape == (1,) and \
                np.issubdtype(x_train[0].dtype, np.floating):
            x = x_train[0][:, 0].astype(np.float64)
            step = max(1, len(x) // MAX_POINTS)
            self.fit_points = np.c_[x[::step], np.asarray(y_train).reshape(len(x))[::step]]
            lo, hi = float(x.min()), float(x.max())
            pad = 0.05 * (hi - lo or 1.0)
            self.fit_x = np.linspace(lo - pad, hi + pad, FIT_POINTS)

    def describe(self) -> dict[str, Any]:
        """What stays fixed for the run: the terms layers add to the loss, the vocabulary and
        the Embedding nodes, the data under a fitted curve, a VAE's code node."""
        m = self.model
        out: dict[str, Any] = {"loss_terms": sorted({
            s.layer.loss_term for s in m.steps if s.layer.adds_loss})}
        if self.embeddings:
            out["vocabulary"] = list(self.vocabulary)
            out["embeddings"] = list(self.embeddings)
        if self.fit_points is not None:
            out["fit_points"] = self.fit_points.astype(np.float32)
        if self.code_node is not None:
            out["code_node"] = self.code_node
            out["grid_span"] = GRID_SPAN
        return out

    def extras(self) -> dict[str, Any]:
        """Copies, for one snapshot: word vectors per Embedding node ("vectors/<node>"),
        decoded grid and random codes ("decoded_grid", "decoded_random"), fitted curve
        ("fit": (FIT_POINTS, 2) x and y)."""
        m = self.model
        out: dict[str, Any] = {}
        for node in self.embeddings:
            out[f"vectors/{node}"] = np.array(m.weights[f"{node}/E"][:len(self.vocabulary)],
                                              dtype=np.float32)
        if self.code_node is not None:
            try:
                with np.errstate(all="ignore"):
                    grid = run_from(m, self.code_node, self.codes)
                    rand = run_from(m, self.code_node, self.random_codes)
            except NNEngineError:
                pass   # the decoder also reads other nodes: nothing to generate from
            else:
                out["decoded_grid"] = grid.reshape(GRID, GRID, -1).astype(np.float32)
                out["decoded_random"] = rand.reshape(RANDOM_CODES, -1).astype(np.float32)
        if self.fit_x is not None:
            with np.errstate(all="ignore"):
                y = m.predict(self.fit_x[:, None].astype(m.dtype))[:, 0]
            out["fit"] = np.c_[self.fit_x, y].astype(np.float32)
        return out


def _grid_codes(width: int, shape: tuple[int, ...]) -> np.ndarray:
    """GRID² codes: the first two code numbers on a grid from -GRID_SPAN to GRID_SPAN (rows:
    the second, falling from top to bottom; columns: the first), the others 0."""
    axis = np.linspace(-GRID_SPAN, GRID_SPAN, GRID)
    codes = np.zeros((GRID, GRID, width))
    codes[:, :, 0] = axis[None, :]
    if width > 1:
        codes[:, :, 1] = axis[::-1, None]
    return codes.reshape((GRID * GRID, *shape))
