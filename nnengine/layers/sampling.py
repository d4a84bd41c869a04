"""Sampling: a variational autoencoder's random code, z = mean + exp(logvar/2)·ε, with the
reparameterisation trick (ε ~ N(0, 1) is an input to the step, so gradients reach mean and
logvar), and its KL divergence from N(0, 1) added to the loss."""
from __future__ import annotations

from typing import NamedTuple

import numpy as np

from ..catalogue import LayerSpec, ParamSpec, register_layer
from ..errors import ShapeError
from .base import FRESH, Layer


class _Draw(NamedTuple):
    mean: np.ndarray      # (N, D)
    logvar: np.ndarray    # (N, D)
    spread: np.ndarray | None  # exp(logvar/2)·ε in training, None at inference (z = mean)
    scratch: tuple[np.ndarray, np.ndarray]  # two (N, D) buffers for the KL term's sum


class Sampling(Layer):
    """mean, logvar: (N, ...) -> z: (N, ...). Training: z = mean + exp(logvar/2)·ε;
    inference: z = mean. Adds beta·KL, KL = −½·mean_n Σ(1 + logvar − mean² − exp(logvar))."""

    adds_loss = True
    loss_term = "kl"

    def output_shape(self, input_shapes):
        mean, logvar = (tuple(s) for s in input_shapes)
        if mean != logvar:
            raise ShapeError(f"Sampling needs a mean and a log-variance of the same shape, "
                             f"received shapes {list(mean)} and {list(logvar)}",
                             code="shape_mismatch")
        return mean

    def forward(self, w, xs, training, rng, ws=FRESH):
        mean, logvar = xs
        # added_loss has no workspace of its own: its buffers travel in the context.
        scratch = (ws.like("terms", logvar), ws.like("term", logvar))
        if not training:
            return mean, _Draw(mean, logvar, None, scratch)
        if rng is None:  # a silent unseeded draw would break reproducible runs
            raise ValueError("Sampling needs a random generator in training mode")
        spread = ws.empty("spread", mean.shape, mean.dtype)
        # Drawn in float64 and rounded, so float32 and float64 models see the same ε.
        np.copyto(spread, rng.standard_normal(out=ws.empty("draws", mean.shape, np.float64)))
        scale = np.multiply(logvar, 0.5, out=ws.like("scale", logvar))
        spread *= np.exp(scale, out=scale)
        z = ws.empty("z", mean.shape, mean.dtype)
        return np.add(mean, spread, out=z), _Draw(mean, logvar, spread, scratch)

    def added_loss(self, ctx):
        mean, logvar, (terms, term) = ctx.mean, ctx.logvar, ctx.scratch
        np.add(logvar, 1.0, out=terms)
        terms -= np.multiply(mean, mean, out=term)
        terms -= np.exp(logvar, out=term)
        kl = -0.5 * float(np.sum(terms))
        return self.config["beta"] * kl / len(mean)

    def backward(self, w, ctx, dy, ws=FRESH, need_dx=True):
        if not need_dx:
            return [None, None], {}
        mean, logvar = ctx.mean, ctx.logvar
        k = self.config["beta"] / len(mean)
        d_mean = ws.empty("d_mean", dy.shape, dy.dtype)
        np.multiply(mean, k, out=d_mean)
        d_mean += dy
        d_logvar = ws.empty("d_logvar", dy.shape, dy.dtype)
        np.exp(logvar, out=d_logvar)
        d_logvar -= 1.0
        d_logvar *= 0.5 * k
        if ctx.spread is not None:
            through_z = np.multiply(dy, 0.5, out=ws.like("through_z", dy))
            through_z *= ctx.spread
            d_logvar += through_z
        return [d_mean, d_logvar], {}


register_layer(LayerSpec(
    type="Sampling", category="Core", layer_class=Sampling,
    description="A variational autoencoder's code: draws z around the mean (input 1) with the "
                "spread of the log-variance (input 2) while training, the mean otherwise, and "
                "adds the KL divergence from N(0, 1) to the loss (shown as its own curve).",
    formula="z = mean + exp(logvar/2)·ε, ε ~ N(0, 1) (training; z = mean at inference);  "
            "loss += β · (−½ · mean_n Σ(1 + logvar − mean² − exp(logvar)))",
    params=(
        ParamSpec("beta", "float", 1.0, minimum=0.0,
                  help="Weight β of the KL term (β-VAE); below 1 when the reconstruction loss "
                       "is a mean over many pixels, so the code keeps what it learns"),
    ),
    min_inputs=2, max_inputs=2, key_params=("beta",),
))
