"""Lesson cards: the gallery's chapters and cards, and the check that a card teaches its
lesson on any seed.

`resources/templates/gallery.toml` lists chapters in course order; each card names a graph
file (with its training block) beside it and says, in words, its lesson, the result to
expect and what to look at, and, for `bench/lessons.py` and the tests, a `target`: bounds
on what one training run measures (`run_card`), the health alarms that are its lesson, and
optionally a `contrast` with its partner card at the same seed. No Qt: the bench and the
tests run it headless, and the app shows the same text.

Card format (one `[[chapter.card]]` table):

    file = "xor.json"                 # graph file beside gallery.toml; its name is the title
    sentence = "..."                  # one line under the picture
    lesson = "..."                    # what it teaches
    expect = "..."                    # the result to expect
    look_at = "..."                   # which plot, which node
    target = {test_accuracy = ">= 0.99"}   # every bound must hold (see METRICS)
    alarms = ["overfitting"]          # health alarms that are the lesson: they must fire
                                      # (at some epoch of the run: `AlarmWatch`)
    tolerate = ["flat_loss"]          # alarms that may fire (a card that is meant to fail);
                                      # any other one raised during the run fails the card
    contrast = {card = "xor_single_layer.json", metric = "test_accuracy", higher_by = 0.2}
"""
from __future__ import annotations

import operator
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

import nnengine as nn
from nnengine.diagnostics import INFO

from .lesson_metrics import METRICS as LESSON_METRICS
from .lesson_metrics import lesson_metrics
from .training.probe import Probe

TEMPLATES_DIR = Path(__file__).resolve().parents[1] / "resources" / "templates"

METRICS = {
    "test_accuracy": "accuracy on the data set's test split",
    "test_loss": "loss on the test split",
    "val_loss_rise": "last validation loss / lowest validation loss (1 = never rose)",
    "denoise_gain": "distance of noisy test inputs from the clean ones / distance of the "
                    "output from the clean ones (above 1: the output is closer)",
    "diverged": "whether training stopped on a NaN or infinite loss or gradient",
    **LESSON_METRICS,
}
"""What one run measures, by the name a target uses."""

_OPS = {">=": operator.ge, "<=": operator.le}


@dataclass(frozen=True)
class Bound:
    """`metric op value`, e.g. test_accuracy >= 0.95, or diverged == true."""

    metric: str
    op: str
    value: float | bool

    @classmethod
    def parse(cls, metric: str, text: Any, where: str) -> Bound:
        if metric not in METRICS:
            raise ValueError(f"{where}: unknown target metric '{metric}' "
                             f"(known: {', '.join(METRICS)})")
        if isinstance(text, bool):
            return cls(metric, "==", text)
        op, _, number = str(text).partition(" ")
        if op not in _OPS:
            raise ValueError(f"{where}: target {metric} must read like \">= 0.95\" or "
                             f"\"<= 0.75\", received {text!r}")
        return cls(metric, op, float(number))

    def holds(self, metrics: dict[str, Any]) -> bool:
        value = metrics.get(self.metric)
        if value is None:
            return False
        if self.op == "==":
            return bool(value) == self.value
        return bool(np.isfinite(value)) and _OPS[self.op](value, self.value)

    def __str__(self) -> str:
        if self.op == "==":
            return f"{self.metric} {'yes' if self.value else 'no'}"
        return f"{self.metric} {self.op} {self.value:g}"


@dataclass(frozen=True)
class Contrast:
    """This card's `metric` beats its partner's, at the same seed, by at least a margin."""

    card: str
    metric: str
    higher_by: float | None = None
    lower_by: float | None = None

    def holds(self, mine: dict[str, Any], theirs: dict[str, Any]) -> bool:
        a, b = mine.get(self.metric), theirs.get(self.metric)
        if a is None or b is None or not (np.isfinite(a) and np.isfinite(b)):
            return False
        if self.higher_by is not None:
            return a - b >= self.higher_by
        return b - a >= (self.lower_by or 0.0)

    def missed(self, mine: dict[str, Any], theirs: dict[str, Any]) -> list[str]:
        """[] when it holds, else what missed, with both values."""
        if self.holds(mine, theirs):
            return []
        return [(f"{self} (got {_shown(mine.get(self.metric))} vs "
                 f"{_shown(theirs.get(self.metric))})")]

    def __str__(self) -> str:
        how = (f"higher by >= {self.higher_by:g}" if self.higher_by is not None
               else f"lower by >= {self.lower_by:g}")
        return f"{self.metric} {how} than {self.card}"


@dataclass(frozen=True)
class Card:
    path: Path
    title: str
    chapter: str
    sentence: str
    lesson: str
    expect: str
    look_at: str
    target: tuple[Bound, ...]
    alarms: tuple[str, ...] = ()
    tolerate: tuple[str, ...] = ()
    contrast: Contrast | None = None

    @property
    def name(self) -> str:
        return self.path.name

    def graph(self) -> nn.Graph:
        return nn.load_graph(self.path)

    def target_text(self) -> str:
        parts = [str(b) for b in self.target] + [f"alarm {a} fires" for a in self.alarms]
        if self.contrast:
            parts.append(str(self.contrast))
        return ", ".join(parts)


@dataclass(frozen=True)
class Chapter:
    title: str
    intro: str
    cards: tuple[Card, ...]


def load_chapters(directory: Path = TEMPLATES_DIR) -> list[Chapter]:
    """The gallery in course order; a card's title is its graph's own name."""
    with open(directory / "gallery.toml", "rb") as f:
        data = tomllib.load(f)
    chapters = []
    for ch in data["chapter"]:
        cards = tuple(_card(directory, ch["title"], entry) for entry in ch["card"])
        chapters.append(Chapter(ch["title"], ch.get("intro", ""), cards))
    return chapters


def load_cards(directory: Path = TEMPLATES_DIR) -> list[Card]:
    return [card for ch in load_chapters(directory) for card in ch.cards]


def card_for_path(path: str | Path | None, directory: Path = TEMPLATES_DIR) -> Card | None:
    """The card of a template file (its path, or its file name in the gallery), or None."""
    if path is None:
        return None
    path = Path(path)
    if len(path.parts) > 1 and path.resolve().parent != Path(directory).resolve():
        return None   # not in the gallery's folder: no need to read every template
    for card in load_cards(directory):
        if path == Path(card.name) or path.resolve() == card.path.resolve():
            return card
    return None


def _card(directory: Path, chapter: str, entry: dict[str, Any]) -> Card:
    path = directory / entry["file"]
    where = f"gallery.toml: {entry['file']}"
    contrast = entry.get("contrast")
    return Card(
        path=path, title=nn.load_graph(path).name or path.stem, chapter=chapter,
        sentence=entry["sentence"], lesson=entry["lesson"], expect=entry["expect"],
        look_at=entry["look_at"],
        target=tuple(Bound.parse(k, v, where) for k, v in entry["target"].items()),
        alarms=tuple(entry.get("alarms", ())), tolerate=tuple(entry.get("tolerate", ())),
        contrast=Contrast(**contrast) if contrast else None)


# --- running a card ---------------------------------------------------------------------------
@dataclass
class LessonRun:
    """What one training run of a card measured, and every health alarm the run raised at
    any of its snapshots, with the first epoch it was raised at (0: before training)."""

    card: Card
    seed: int
    metrics: dict[str, Any]
    alarms: list[str] = field(default_factory=list)
    first_raised: dict[str, int] = field(default_factory=dict)

    def failures(self) -> list[str]:
        """Why this run misses its card's target (empty: it teaches the lesson quietly)."""
        return self.lesson_failures() + self.stray_alarms()

    def lesson_failures(self) -> list[str]:
        """Bounds missed and lesson alarms that never fired."""
        out = [f"{b} (got {_shown(self.metrics.get(b.metric))})"
               for b in self.card.target if not b.holds(self.metrics)]
        if self.metrics.get("diverged"):
            return out  # a run that blew up has no meaningful end state to diagnose
        return out + [f"alarm {a} did not fire" for a in self.card.alarms
                      if a not in self.alarms]

    def stray_alarms(self) -> list[str]:
        """Alarms the health panel raised during the run that are not the card's lesson."""
        if self.metrics.get("diverged"):
            return []
        allowed = set(self.card.alarms) | set(self.card.tolerate)
        return [f"unexpected alarm {a}{self._when(a)}" for a in self.alarms if a not in allowed]

    def _when(self, code: str) -> str:
        epoch = self.first_raised.get(code)
        return "" if epoch is None else f" (from epoch {epoch})"

    def primary(self) -> Any:
        """The value of the card's first target metric."""
        return self.metrics.get(self.card.target[0].metric)


def _shown(value: Any) -> str:
    if isinstance(value, bool) or value is None:
        return str(value)
    return f"{value:.4g}"


class AlarmWatch(nn.Callback):
    """The health panel's check over a whole run: the app's `Probe` snapshot (its probe
    batch, gradient-norm history and the epochs so far, through `diagnose`) before training
    and at every epoch's end, as the app takes one at every epoch of a run of up to 100
    epochs. (The app also snapshots between epochs, as often as time allows; those depend
    on the machine's speed, so they are left out here.) Snapshots only read the model: the
    run learns exactly what it would without them."""

    def __init__(self) -> None:
        self.first_raised: dict[str, int] = {}
        self._epochs: list[dict[str, Any]] = []

    def on_train_begin(self, trainer: nn.Trainer) -> None:
        self.probe = Probe(trainer)
        self.sample = (self.probe.default_split(), 0)
        self._look(0)

    def on_epoch_end(self, trainer: nn.Trainer, epoch: int, logs: dict) -> None:
        self._epochs.append(dict(logs, epoch=epoch))
        self._look(epoch)

    def _look(self, epoch: int) -> None:
        snap = self.probe.snapshot(self.sample, epoch=epoch, epochs=self._epochs,
                                   with_boundary=False)
        for alarm in snap.alarms:
            if alarm.severity != INFO:   # a note is not a problem
                self.first_raised.setdefault(alarm.code, epoch)


def run_card(card: Card, seed: int) -> LessonRun:
    """Train the card's graph with its training block at `seed` (weights, split, shuffle
    and noise all follow the seed), measure what its target needs and collect the health
    alarms raised during the run (`AlarmWatch`)."""
    graph = card.graph()
    config = nn.TrainingConfig.from_dict(graph.training).replace(seed=seed)
    model = nn.compile_model(graph, seed=seed)
    dataset = nn.load_dataset(config.dataset, base_dir=card.path.parent)
    watch = AlarmWatch()
    trainer = nn.Trainer(model, dataset, config, callbacks=[watch])
    metrics: dict[str, Any] = {"diverged": False}
    try:
        history = trainer.fit()
    except nn.TrainingDiverged:
        metrics["diverged"] = True
        return LessonRun(card, seed, metrics)
    test = trainer.evaluate_test()
    metrics["test_loss"] = test["loss"]
    if "accuracy" in test:
        metrics["test_accuracy"] = test["accuracy"]
    val = [e["val_loss"] for e in history.epochs if e.get("val_loss") is not None]
    if val:
        metrics["val_loss_rise"] = val[-1] / max(min(val), 1e-12)
    metrics.update(lesson_metrics(model, dataset, test))
    gain = denoise_gain(model, dataset, seed)
    if gain is not None:
        metrics["denoise_gain"] = gain
    return LessonRun(card, seed, metrics, sorted(watch.first_raised), watch.first_raised)


def denoise_gain(model: nn.Model, dataset: nn.Dataset, seed: int) -> float | None:
    """For a denoising autoencoder (a GaussianNoise node, target inputs): test inputs with
    the node's noise added, and how much closer to the clean input the output is than the
    noisy input was (mean squared distances)."""
    layers = model.analysis.layers
    noise = [n for n in model.analysis.order if layers[n].spec.type == "GaussianNoise"]
    if not noise or model.graph.training.get("target") != "inputs":
        return None
    clean = model.as_inputs(dataset.x_test)[0]
    stddev = float(layers[noise[0]].config["stddev"])
    noisy = clean + np.random.default_rng([seed, 11]).normal(0, stddev, clean.shape).astype(
        clean.dtype)
    out = model.predict(noisy).reshape(clean.shape)
    before = float(np.mean((noisy - clean) ** 2))
    after = float(np.mean((out - clean) ** 2))
    return before / max(after, 1e-12)
