"""Weight initializers, registered by name; all draw from a seeded numpy Generator."""
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


def initialize(name: str, rng: np.random.Generator, shape, fan_in: int, fan_out: int,
               dtype) -> np.ndarray:
    """Draw a weight of `shape` with the named scheme, cast to `dtype`."""
    return np.asarray(INITIALIZERS.get(name)(rng, shape, max(fan_in, 1), max(fan_out, 1)),
                      dtype=dtype)
