"""How samples are drawn as images: which input shapes are images, one sample or many
reshaped for display, and mosaics of many small images. No widgets."""
from __future__ import annotations

import math

import numpy as np


def image_shape_for(shape: tuple[int, ...]) -> tuple[int, ...] | None:
    """How one sample of this input shape is drawn as an image: (h, w), (h, w, 3), or None."""
    if len(shape) == 3 and shape[0] in (1, 3):
        return (shape[1], shape[2]) if shape[0] == 1 else (shape[1], shape[2], 3)
    if len(shape) == 2 and min(shape) >= 4:
        return shape
    if len(shape) == 1:
        side = round(math.sqrt(shape[0]))
        if side * side == shape[0] and side >= 7:
            return (side, side)
    return None


def as_image(sample: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """One sample reshaped for display (channels last for RGB)."""
    a = np.asarray(sample, dtype=np.float32)
    if len(shape) == 3:
        return np.moveaxis(a.reshape(3, shape[0], shape[1]), 0, -1)
    return a.reshape(shape)


def as_images(samples: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """Many samples (n, ...) at once, as `as_image` shows each: (n, *shape)."""
    a = np.asarray(samples, dtype=np.float32)
    if len(shape) == 3:
        return np.moveaxis(a.reshape(len(a), 3, shape[0], shape[1]), 1, -1)
    return a.reshape(len(a), *shape)


def tile(images: np.ndarray, columns: int | None = None, gap: int = 1,
         aspect: float = 1.2) -> np.ndarray:
    """Images (n, h, w) into one (rows·(h+gap)−gap, cols·(w+gap)−gap) mosaic shaped for a
    view `aspect` times wider than high; the gaps are NaN, which ImageItem draws
    transparent."""
    n, h, w = images.shape[:3]
    cols = columns or max(1, math.ceil(math.sqrt(n * h / max(w, 1) * aspect)))
    cols = min(cols, n)
    rows = math.ceil(n / cols)
    out = np.full((rows * (h + gap) - gap, cols * (w + gap) - gap), np.nan, dtype=np.float32)
    for i in range(n):
        r, c = divmod(i, cols)
        out[r * (h + gap):r * (h + gap) + h, c * (w + gap):c * (w + gap) + w] = images[i]
    return out
