"""Layers that add a term of their own to the training loss (a VAE's KL divergence, a
sparse autoencoder's activity penalty).

Such a layer computes its term from its forward context, and its `backward` already adds
the term's gradient to the input gradients it returns, so the model's backward pass needs
nothing extra. The model sums the terms into the loss and reports each by `term` name, so
it can be drawn as a curve of its own beside the data loss.
"""
from __future__ import annotations

from typing import Any, ClassVar

from .base import Layer


class AddsLoss(Layer):
    term: ClassVar[str]
    """The term's name in training logs and curves ("kl", "activity")."""

    def added_loss(self, ctx: Any) -> float:
        """This layer's term for the batch whose forward context is `ctx`."""
        raise NotImplementedError
