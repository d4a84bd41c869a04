"""Weight initializers, registered by name; all draw from a seeded numpy Generator.

The second half builds the `init` of a weight declaration (`catalogue.Weight`).
"""
from __future__ import annotations

import numpy as np

from .catalogue import INITIALIZERS

INIT_NAMES = ("glorot_uniform", "glorot_normal", "he_normal", "he_uniform", "lecun_normal",
              "normal", "uniform", "zeros")


def _register(name):
    def wrap(fn):
        INITIALIZERS.add(name, fn)
        return fn
    return wrap


@_register("glorot_uniform")
def glorot_uniform(rng, shape, fan_in, fan_out):
    limit = np.sqrt(6.0 / (fan_in + fan_out))
    return rng.uniform(-limit, limit, size=shape)


@_register("glorot_normal")
def glorot_normal(rng, shape, fan_in, fan_out):
    return rng.normal(0.0, np.sqrt(2.0 / (fan_in + fan_out)), size=shape)


@_register("he_normal")
def he_normal(rng, shape, fan_in, fan_out):
    return rng.normal(0.0, np.sqrt(2.0 / fan_in), size=shape)


@_register("he_uniform")
def he_uniform(rng, shape, fan_in, fan_out):
    limit = np.sqrt(6.0 / fan_in)
    return rng.uniform(-limit, limit, size=shape)


@_register("lecun_normal")
def lecun_normal(rng, shape, fan_in, fan_out):
    return rng.normal(0.0, np.sqrt(1.0 / fan_in), size=shape)


@_register("normal")
def normal(rng, shape, fan_in, fan_out):
    return rng.normal(0.0, 0.05, size=shape)


@_register("uniform")
def uniform(rng, shape, fan_in, fan_out):
    return rng.uniform(-0.05, 0.05, size=shape)


@_register("zeros")
def zeros(rng, shape, fan_in, fan_out):
    return np.zeros(shape)


# --- initialisers for weight declarations: (rng, shape, config) -> array -------------------

def fans(shape: tuple[int, ...]) -> tuple[int, int]:
    """(fan_in, fan_out): (in, out) for a matrix; for a conv kernel (out, in, kh, kw) each
    channel count times the window's size (Keras' and PyTorch's rule)."""
    if len(shape) == 1:
        return shape[0], shape[0]
    if len(shape) == 2:
        return shape[0], shape[1]
    receptive = int(np.prod(shape[2:]))
    return shape[1] * receptive, shape[0] * receptive


def scheme(name: str):
    """A fixed named scheme ("glorot_uniform") with the shape's fans."""
    return lambda rng, shape, config: INITIALIZERS.get(name)(rng, shape, *map(_at_least_1,
                                                                               fans(shape)))


def scheme_from(param: str):
    """The scheme the layer's `param` names (Dense's and Conv2D's `init`)."""
    return lambda rng, shape, config: scheme(config[param])(rng, shape, config)


def constant(value: float):
    return lambda rng, shape, config: np.full(shape, value)


def constant_from(param: str):
    """Every entry set to the layer's `param` (PReLU's `init_alpha`)."""
    return lambda rng, shape, config: np.full(shape, config[param])


def uniform_fan_in(dim: str):
    """U(±1/√fan_in), fan_in being the layer's `dim` (Dense's biases, as PyTorch draws them).

    Not zeros: with zero biases every first-layer unit's boundary passes through the
    origin. Measured on spirals (2-32-32-1 tanh, adam 0.01, 400 epochs, seeds 0-9): zero
    biases reach 63-70% at 9 of 10 seeds, these biases 100% at all 10 (bench/lessons.py
    keeps watch)."""
    def draw(rng, shape, config):
        limit = 1.0 / np.sqrt(config[dim])
        return rng.uniform(-limit, limit, size=shape)
    return draw


def uniform_between(low: float, high: float):
    return lambda rng, shape, config: rng.uniform(low, high, size=shape)


def orthogonal_blocks(rng, shape, config):
    """(n, k·n): k random orthogonal (n, n) blocks side by side (one per recurrent gate).
    Each block is QR of a normal matrix with signs fixed by diag(R)."""
    n = shape[0]
    blocks = []
    for _ in range(shape[1] // n):
        q, r = np.linalg.qr(rng.normal(size=(n, n)))
        blocks.append(q * np.sign(np.diag(r)))
    return np.concatenate(blocks, axis=1)


def _at_least_1(n: int) -> int:
    return max(n, 1)
