"""The single registry of what can be built: layer specs, losses, optimizers, initializers.

Every consumer (validation, shape inference, the GUI's palette and inspector, serialization,
export) reads these declarative specs; nothing else lists layer names by hand.
"""
from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

REQUIRED = object()
"""Sentinel default: the parameter must be given."""

CATEGORIES = (
    "Input and output",
    "Core",
    "Activations",
    "Convolution and pooling",
    "Normalization and regularization",
    "Recurrent and embedding",
    "Merge",
)

PARAM_KINDS = ("int", "float", "bool", "choice", "shape", "int_or_choice", "window")


@dataclass(frozen=True)
class ParamSpec:
    """One parameter: its kind, default, bounds and a one-line help for the inspector.

    `kind` is one of PARAM_KINDS; `window` accepts an int or a pair [h, w] of ints (kernel
    sizes, strides), `int_or_choice` that or one of `choices` (Conv2D padding). `nullable`
    allows None, meaning "derived" (pool stride = pool size).
    `applies_when` = (other_param, values): the parameter only matters for those values.
    """

    name: str
    kind: str
    default: Any = REQUIRED
    help: str = ""
    minimum: float | None = None
    maximum: float | None = None
    exclusive_minimum: bool = False
    choices: tuple = ()
    nullable: bool = False
    applies_when: tuple[str, tuple] | None = None

    def __post_init__(self) -> None:
        if self.kind not in PARAM_KINDS:
            raise ValueError(f"parameter '{self.name}': unknown kind '{self.kind}'")

    @property
    def required(self) -> bool:
        return self.default is REQUIRED

    def applies(self, config: dict) -> bool:
        if self.applies_when is None:
            return True
        other, values = self.applies_when
        return config.get(other) in values

    def check(self, value: Any) -> tuple[Any, str | None]:
        """Return (normalised value, None) or (value, reason it is invalid)."""
        if value is None:
            return (None, None) if self.nullable else (value, "must not be empty")
        kind = self.kind
        if kind == "bool":
            return (value, None) if isinstance(value, bool) else (value, "must be true or false")
        if kind == "choice":
            if value in self.choices:
                return value, None
            return value, f"must be one of {', '.join(map(str, self.choices))}"
        if kind == "int_or_choice" and isinstance(value, str):
            if value in self.choices:
                return value, None
            return value, f"must be an integer or one of {', '.join(self.choices)}"
        if kind in ("window", "int_or_choice") and isinstance(value, (list, tuple)):
            return self._check_pair(value)
        if kind in ("int", "int_or_choice", "window"):
            if isinstance(value, bool) or not isinstance(value, int):
                if isinstance(value, float) and value.is_integer():
                    value = int(value)
                else:
                    return value, "must be an integer"
            return value, self._range_problem(value)
        if kind == "float":
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                return value, "must be a number"
            value = float(value)
            if not math.isfinite(value):
                return value, "must be a finite number"
            return value, self._range_problem(value)
        if kind == "shape":
            if not isinstance(value, (list, tuple)) or not value:
                return value, "must be a non-empty list of positive integers"
            if not all(isinstance(v, int) and not isinstance(v, bool) and v > 0 for v in value):
                return value, "must be a non-empty list of positive integers"
            return [int(v) for v in value], None
        raise AssertionError(f"unknown parameter kind {kind}")

    def _check_pair(self, value: list | tuple) -> tuple[Any, str | None]:
        """[h, w]: two integers within the bounds."""
        if len(value) != 2:
            return value, "must be an integer or a pair [height, width]"
        checked = []
        for v in value:
            v, reason = ParamSpec(self.name, "int", minimum=self.minimum,
                                  maximum=self.maximum).check(v)
            if reason:
                return value, f"must be an integer or a pair [height, width]; {v!r} {reason}"
            checked.append(v)
        return checked, None

    def _range_problem(self, value: float) -> str | None:
        lo, hi = self.minimum, self.maximum
        if lo is not None:
            if self.exclusive_minimum and value <= lo:
                return f"must be greater than {lo:g}"
            if value < lo:
                return f"must be at least {lo:g}"
        if hi is not None and value > hi:
            return f"must be at most {hi:g}"
        return None


Dim = int | str
"""One entry of a weight's shape: a number, or a name looked up in the layer's config and its
`dims` ("units", "in"), optionally with a factor ("4·units")."""

Initializer = Callable[[Any, tuple[int, ...], dict[str, Any]], Any]
"""(rng, shape, config) -> array of that shape; see `nnengine.initializers`."""


@dataclass(frozen=True)
class Weight:
    """A weight of a layer, declared once; shapes, initial values, parameter counts, weight
    file checks, the l2 penalty and the catalogue's docs are all derived from it.

    `shape` is a tuple of Dims, resolved against the layer's config and `Layer.dims`; a name
    whose value is a list (Input's `shape`) contributes all of its entries. `init` draws the
    first value. `when` names a bool parameter the weight depends on ("use_bias", or
    "not shared"); two declarations may share a name when their `when`s exclude each other.
    `optional` weights are never initialised: something else stores them (Input's mean and
    std come from the `standardize` training option), and they count only once present.
    """

    name: str
    shape: tuple[Dim, ...]
    init: Initializer | None = None
    trainable: bool = True
    regularized: bool = False  # counted by the `l2` training option
    when: str | None = None
    optional: bool = False

    def applies(self, config: dict[str, Any]) -> bool:
        if self.when is None:
            return True
        negate, _, name = self.when.rpartition(" ")
        return bool(config.get(name)) != (negate == "not")

    def resolve(self, dims: dict[str, Any]) -> tuple[int, ...]:
        """The concrete shape, given every name a Dim may use."""
        out: list[int] = []
        for entry in self.shape:
            if isinstance(entry, int):
                out.append(entry)
                continue
            factor, _, name = entry.rpartition("·")
            value = dims[name]
            if isinstance(value, (list, tuple)):
                out.extend(int(v) for v in value)
            else:
                out.append(int(factor or 1) * int(value))
        return tuple(out)

    def doc(self) -> str:
        """What the weight is, e.g. "W (in, units)", "b (units) if use_bias"."""
        return f"{self.name} ({', '.join(map(str, self.shape))}){self._notes()}"

    def count_doc(self) -> str:
        """How many numbers it holds, e.g. "W in·units", "b units if use_bias"."""
        return f"{self.name} {'·'.join(map(str, self.shape))}{self._notes()}"

    def _notes(self) -> str:
        notes = [] if self.trainable else ["not trained"]
        if self.when:
            notes.append(f"if {self.when}")
        if self.optional:
            notes.append("stored only when set")
        return f" ({', '.join(notes)})" if notes else ""


@dataclass(frozen=True)
class LayerSpec:
    """A layer type as the whole program sees it.

    `min_inputs`/`max_inputs` give the input port count (`max_inputs=None`: any number
    from min_inputs). `key_params` are the parameters a canvas node shows. `weights` are the
    layer's weight declarations (see Weight).
    """

    type: str
    category: str
    description: str
    formula: str
    params: tuple[ParamSpec, ...]
    layer_class: type
    weights: tuple[Weight, ...] = ()
    min_inputs: int = 1
    max_inputs: int | None = 1
    key_params: tuple[str, ...] = ()

    def param(self, name: str) -> ParamSpec | None:
        for p in self.params:
            if p.name == name:
                return p
        return None

    def defaults(self) -> dict[str, Any]:
        return {p.name: p.default for p in self.params if not p.required}

    @property
    def is_input(self) -> bool:
        return self.max_inputs == 0

    @property
    def weight_names(self) -> tuple[str, ...]:
        """Every weight name the layer can have, in declaration order, each once."""
        return tuple(dict.fromkeys(w.name for w in self.weights))

    @property
    def param_count_help(self) -> str:
        """How the parameters are counted, from the weight declarations."""
        if not self.weights:
            return "no weights"
        alternatives = {name: " or ".join(w.count_doc() for w in self.weights if w.name == name)
                        for name in self.weight_names}  # same name: `when`s exclude each other
        return " + ".join(alternatives.values())

    @property
    def weight_docs(self) -> str:
        """The weights as the catalogue lists them: "W (in, units), b (units) (if use_bias)"."""
        return ", ".join(w.doc() for w in self.weights)

    def resolve(self, params: dict[str, Any] | None) -> tuple[dict[str, Any], list[str]]:
        """Fill defaults and check each value; returns (config, list of problems)."""
        params = {} if params is None else params
        problems: list[str] = []
        if not isinstance(params, dict):
            return self.defaults(), [f"params must be an object, received {params!r}"]
        known = {p.name for p in self.params}
        for name in params:
            if name not in known:
                allowed = ", ".join(sorted(known)) or "none"
                problems.append(f"unknown parameter '{name}' for {self.type} (allowed: {allowed})")
        config: dict[str, Any] = {}
        for p in self.params:
            if p.name not in params:
                if p.required:
                    problems.append(f"parameter '{p.name}' is required")
                    continue
                config[p.name] = p.default
                continue
            value, reason = p.check(params[p.name])
            if reason:
                problems.append(f"parameter '{p.name}' {reason}, received {params[p.name]!r}")
            config[p.name] = value
        return config, problems


@dataclass
class Registry:
    """Name -> entry table for one kind of thing (layers, losses, optimizers...)."""

    kind: str
    entries: dict[str, Any] = field(default_factory=dict)

    def add(self, name: str, entry: Any) -> Any:
        if name in self.entries:
            raise ValueError(f"{self.kind} '{name}' registered twice")
        self.entries[name] = entry
        return entry

    def get(self, name: str) -> Any:
        try:
            return self.entries[name]
        except KeyError:
            known = ", ".join(sorted(self.entries))
            raise KeyError(f"unknown {self.kind} '{name}' (known: {known})") from None

    def __contains__(self, name: object) -> bool:
        return name in self.entries

    def names(self) -> list[str]:
        return list(self.entries)


LAYERS = Registry("layer type")
LOSSES = Registry("loss")
OPTIMIZERS = Registry("optimizer")
INITIALIZERS = Registry("initializer")


def register_layer(spec: LayerSpec) -> LayerSpec:
    """Add a layer type to the catalogue; the layer class gets `spec` as its class attribute."""
    spec.layer_class.spec = spec
    return LAYERS.add(spec.type, spec)


def layer_spec(type_name: str) -> LayerSpec:
    _ensure_loaded()
    return LAYERS.get(type_name)


def layer_specs() -> list[LayerSpec]:
    """Every layer spec, in catalogue order (grouped by category)."""
    _ensure_loaded()
    order = {c: i for i, c in enumerate(CATEGORIES)}
    return sorted(LAYERS.entries.values(), key=lambda s: order[s.category])


def _ensure_loaded() -> None:
    from . import layers  # noqa: F401  (importing registers every layer module)


@dataclass(frozen=True)
class LossSpec:
    name: str
    description: str
    fn: Callable
    classification: bool


@dataclass(frozen=True)
class OptimizerSpec:
    name: str
    description: str
    params: tuple[ParamSpec, ...]
    factory: Callable
