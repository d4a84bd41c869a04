"""Optimizers over a flat dict of named arrays, updating them in place.

Update rules follow PyTorch: SGD momentum v = μ·v + g, w -= lr·v (Nesterov: w -= lr·(g + μ·v));
Adam with bias correction; RMSprop s = ρ·s + (1 − ρ)·g², w -= lr·g / (√s + ε).
`perceptron` is Rosenblatt's rule, which needs the model (see `Perceptron.gradients`).
In-place updates keep the arrays' identity, so compiled steps can hold references to them.
The state (and one scratch array per weight) is made at the first step and updated in place
after that, so a step allocates nothing.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from .catalogue import OPTIMIZERS, OptimizerSpec, ParamSpec
from .errors import ConfigError

LR = ParamSpec("learning_rate", "float", 0.01, "Step size", minimum=0, exclusive_minimum=True)


class Optimizer:
    def __init__(self, learning_rate: float):
        self.learning_rate = learning_rate
        self.state: dict[str, Any] = {}

    def step(self, weights: dict[str, np.ndarray], grads: dict[str, np.ndarray]) -> None:
        for key, g in grads.items():
            self.update(key, weights[key], g)

    def update(self, key: str, w: np.ndarray, g: np.ndarray) -> None:
        raise NotImplementedError

    def buffers(self, key: str, w: np.ndarray, count: int) -> tuple[np.ndarray, ...]:
        """`count` zero-initialised arrays shaped like w, kept for `key` from step to step."""
        state = self.state.get(key)
        if state is None:
            state = self.state[key] = tuple(np.zeros_like(w) for _ in range(count))
        return state


class SGD(Optimizer):
    def __init__(self, learning_rate: float, momentum: float = 0.0, nesterov: bool = False):
        super().__init__(learning_rate)
        self.momentum, self.nesterov = momentum, nesterov

    def update(self, key, w, g):
        lr, mu = self.learning_rate, self.momentum
        if mu == 0:
            (step,) = self.buffers(key, w, 1)
            np.multiply(g, lr, out=step)
            w -= step
            return
        first = key not in self.state
        v, step = self.buffers(key, w, 2)
        if first:
            v[...] = g
        else:
            v *= mu
            v += g
        if self.nesterov:
            np.multiply(v, mu, out=step)
            step += g
            step *= lr
        else:
            np.multiply(v, lr, out=step)
        w -= step


class Adam(Optimizer):
    def __init__(self, learning_rate: float, beta1: float = 0.9, beta2: float = 0.999,
                 epsilon: float = 1e-8):
        super().__init__(learning_rate)
        self.beta1, self.beta2, self.epsilon = beta1, beta2, epsilon
        self.t = 0

    def step(self, weights, grads):
        self.t += 1
        b1, b2, t = self.beta1, self.beta2, self.t
        self._scale = float(self.learning_rate * np.sqrt(1 - b2 ** t) / (1 - b1 ** t))
        self._eps_hat = float(self.epsilon * np.sqrt(1 - b2 ** t))
        super().step(weights, grads)

    def update(self, key, w, g):
        m, v, tmp = self.buffers(key, w, 3)
        m *= self.beta1
        np.multiply(g, 1 - self.beta1, out=tmp)
        m += tmp
        _decay_into(v, g, self.beta2, tmp)
        # Same as lr·m̂/(√v̂ + ε) with m̂, v̂ bias-corrected, in fewer array passes.
        _step_by_root(w, m, v, self._eps_hat, self._scale, tmp)


class RMSprop(Optimizer):
    def __init__(self, learning_rate: float, rho: float = 0.99, epsilon: float = 1e-8):
        super().__init__(learning_rate)
        self.rho, self.epsilon = rho, epsilon

    def update(self, key, w, g):
        s, tmp = self.buffers(key, w, 2)
        _decay_into(s, g, self.rho, tmp)
        _step_by_root(w, g, s, self.epsilon, self.learning_rate, tmp)


def _decay_into(s: np.ndarray, g: np.ndarray, rho: float, tmp: np.ndarray) -> None:
    """s = rho·s + (1 − rho)·g², in place (tmp: scratch)."""
    s *= rho
    np.multiply(g, g, out=tmp)
    tmp *= 1 - rho
    s += tmp


def _step_by_root(w: np.ndarray, numerator: np.ndarray, s: np.ndarray, eps: float,
                  scale: float, tmp: np.ndarray) -> None:
    """w -= scale·numerator / (√s + eps), in place (tmp: scratch)."""
    np.sqrt(s, out=tmp)
    tmp += eps
    np.divide(numerator, tmp, out=tmp)
    tmp *= scale
    w -= tmp


class Perceptron(Optimizer):
    """Rosenblatt's perceptron rule, for one Dense layer followed by a step activation:
    w += lr·xᵀ(t − y), b += lr·Σ(t − y), summed over the batch (batch size 1 is the classic
    online rule). The step's derivative is zero almost everywhere, so backpropagation cannot
    train this network; the rule uses the output's error directly as the Dense layer's."""

    def check_model(self, model: Any) -> None:
        kinds = [(s.layer.spec.type, s.layer.config.get("function")) for s in model.steps]
        if [k for k, _ in kinds] != ["Input", "Dense", "Activation"] or kinds[2][1] != "step":
            raise ConfigError(
                "the perceptron rule trains one Dense layer followed by a step activation "
                "(Input → Dense → step); this graph has "
                + " → ".join(fn or kind for kind, fn in kinds)
                + "; use sgd or adam for other networks")

    def gradients(self, model: Any, xs: list[np.ndarray], t: np.ndarray, loss_name: str,
                  l2: float, rng: np.random.Generator | None
                  ) -> tuple[float, np.ndarray, dict[str, np.ndarray]]:
        """(loss, output, the rule's step direction) in place of backpropagation's."""
        y, tape = model.forward(xs, training=True, rng=rng, prepared=True)
        if t.shape != y.shape:
            raise ConfigError(
                f"the perceptron rule needs targets shaped like the output {list(y.shape[1:])}: "
                "one output unit with 0/1 labels (binary_cross_entropy or mse), or target "
                "one_hot")
        loss, _, _ = model.loss_and_grad(y, t, loss_name)
        # skip_output: (y − t) goes straight to the Dense layer, as if the step were identity.
        grads, _ = model.backward(tape, (y - t).astype(y.dtype, copy=False), skip_output=True)
        for key in model.regularized_keys if l2 else ():
            grads[key] = grads[key] + (2.0 * l2) * model.weights[key]
        return loss, y, grads

    def update(self, key, w, g):
        w -= self.learning_rate * g


def _unit(name: str, default: float, help: str) -> ParamSpec:
    return ParamSpec(name, "float", default, help, minimum=0, maximum=1)


OPTIMIZERS.add("sgd", OptimizerSpec(
    "sgd", "Stochastic gradient descent, optionally with (Nesterov) momentum.",
    (LR, _unit("momentum", 0.0, "Share of the previous step kept (0 = plain SGD)"),
     ParamSpec("nesterov", "bool", False, "Look ahead along the momentum")), SGD))
OPTIMIZERS.add("adam", OptimizerSpec(
    "adam", "Adam: per-weight step sizes from running means of the gradient and its square.",
    (ParamSpec("learning_rate", "float", 0.001, "Step size", minimum=0, exclusive_minimum=True),
     _unit("beta1", 0.9, "Decay of the gradient's running mean"),
     _unit("beta2", 0.999, "Decay of the squared gradient's running mean"),
     ParamSpec("epsilon", "float", 1e-8, "Keeps the step finite", minimum=0,
               exclusive_minimum=True)), Adam))
OPTIMIZERS.add("rmsprop", OptimizerSpec(
    "rmsprop", "RMSprop: divides each step by a running root mean square of the gradient.",
    (ParamSpec("learning_rate", "float", 0.001, "Step size", minimum=0, exclusive_minimum=True),
     _unit("rho", 0.99, "Decay of the squared gradient's running mean"),
     ParamSpec("epsilon", "float", 1e-8, "Keeps the step finite", minimum=0,
               exclusive_minimum=True)), RMSprop))
OPTIMIZERS.add("perceptron", OptimizerSpec(
    "perceptron", "Rosenblatt's rule for Input → Dense → step: w += lr·x·(target − output).",
    (ParamSpec("learning_rate", "float", 1.0, "Step size (with zero-free random weights "
               "it only sets how far the first mistakes move the line)", minimum=0,
               exclusive_minimum=True),), Perceptron))


def make_optimizer(config: dict[str, Any]) -> Optimizer:
    """Build from {'type': name, **params}; bad names or values raise ConfigError."""
    config = dict(config)
    name = config.pop("type", "adam")
    if name not in OPTIMIZERS:
        raise ConfigError(f"unknown optimizer '{name}' (known: {', '.join(OPTIMIZERS.names())})")
    spec = OPTIMIZERS.get(name)
    known = {p.name: p for p in spec.params}
    kwargs = {p.name: p.default for p in spec.params}
    for key, value in config.items():
        if key not in known:
            raise ConfigError(f"unknown optimizer option '{key}' for {name} "
                              f"(allowed: {', '.join(known)})")
        value, reason = known[key].check(value)
        if reason:
            raise ConfigError(f"optimizer option '{key}' {reason}, received {config[key]!r}")
        kwargs[key] = value
    return spec.factory(**kwargs)
