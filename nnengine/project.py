"""Project files (SPEC section 4): one zip with a graph and every run trained on it.

A project extends the model bundle (`bundle.py`), so a bundle reader still finds its graph
and, when a run was trained on this very graph, that run's weights and metrics at the top:

    graph.json                the graph (as the document holds it)
    weights.npz, metrics.json the selected run's, only when it fits graph.json (bundle members)
    project.json              {"format": "nnengine.project", "version": 1,
                               "runs": [{"id", "name"}, ...], "selected": id | null}
    runs/<id>/run.json        the run card (`run_card.py`)
    runs/<id>/graph.json      the graph the run was trained on (its training block as used)
    runs/<id>/weights.npz     its final weights
    runs/<id>/metrics.json    {"epochs": [per-epoch logs], "test": {metrics} | null}
    runs/<id>/curves.npz      per-batch curves (any float arrays; optional)
    runs/<id>/snapshots.npz   what the app's epoch scrubber shows (opaque here; optional)

Size budget: a run's snapshots take at most `SNAPSHOT_BUDGET` bytes (16 MiB) uncompressed;
the writer of the snapshots keeps within it (the app thins out epochs evenly), and the reader
refuses a larger member before inflating it. Every other member keeps the readers' budgets
(`limits`: JSON members `graph_bytes`, the others `inflated_bytes`, the file `file_bytes`).

`load_project` reads old bundles too: a bundle is a project with one run, "imported", whose
card says what the bundle knew (its graph, data set and seed from the training block).
"""
from __future__ import annotations

import io
import json
import os
import re
import zipfile
import zlib
from dataclasses import dataclass, field
from typing import IO, Any

import numpy as np

from .arrays_io import check_zip_members
from .bundle import metrics_to_json
from .errors import FileFormatError, NNEngineError
from .fileio import read_file_bytes, size_text, write_atomic
from .graph import Graph
from .run_card import graph_sha256, run_card
from .serialization import decode_graph_text, graph_from_json, graph_to_json
from .weights_io import weight_arrays, weights_from_bytes

PROJECT_FORMAT = "nnengine.project"
PROJECT_VERSION = 1
SNAPSHOT_BUDGET = 16 * 2**20      # bytes of one run's snapshots.npz, uncompressed
RUN_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
RUN_MEMBERS = ("run.json", "graph.json", "weights.npz", "metrics.json", "curves.npz",
               "snapshots.npz")
TOP_MEMBERS = ("graph.json", "weights.npz", "metrics.json", "project.json")


@dataclass
class ProjectRun:
    """One run as stored. `card`: the run card; `graph`: what it was trained on; `metrics`:
    {"epochs": [logs], "test": {...} | None}; `curves`: named float arrays (per batch);
    `snapshots`: the app's scrubber data as .npz bytes (opaque to the engine)."""

    id: str
    name: str
    card: dict[str, Any]
    graph: Graph
    weights: dict[str, np.ndarray]
    metrics: dict[str, Any] = field(default_factory=dict)
    curves: dict[str, np.ndarray] = field(default_factory=dict)
    snapshots: bytes | None = None


@dataclass
class Project:
    """A graph and its runs, in the order they were made; `selected`: a run id or None.
    `is_bundle`: read from an old model bundle (its one run is "imported")."""

    graph: Graph
    runs: list[ProjectRun] = field(default_factory=list)
    selected: str | None = None
    is_bundle: bool = False

    def run(self, run_id: str | None) -> ProjectRun | None:
        return next((r for r in self.runs if r.id == run_id), None)


# --- writing --------------------------------------------------------------------------------
def save_project(path: str | os.PathLike, project: Project) -> None:
    """Write `project` as one zip, atomically (a crash mid-save leaves the old file)."""
    ids = [r.id for r in project.runs]
    for run_id in ids:
        if not RUN_ID.match(run_id):
            raise ValueError(f"run id {run_id!r} is not a plain name")
    if len(set(ids)) != len(ids):
        raise ValueError("two runs share one id")
    members: dict[str, bytes] = {"graph.json": graph_to_json(project.graph).encode("utf-8")}
    selected = project.run(project.selected)
    if selected is not None and graph_sha256(selected.graph) == graph_sha256(project.graph):
        members["weights.npz"] = _npz(selected.weights)
        members["metrics.json"] = metrics_to_json(selected.metrics).encode("utf-8")
    index = {"format": PROJECT_FORMAT, "version": PROJECT_VERSION,
             "runs": [{"id": r.id, "name": r.name} for r in project.runs],
             "selected": selected.id if selected is not None else None}
    members["project.json"] = (json.dumps(index, indent=2) + "\n").encode("utf-8")
    for r in project.runs:
        if r.snapshots is not None and len(r.snapshots) > SNAPSHOT_BUDGET:
            raise ValueError(f"run {r.name!r}: its snapshots take {size_text(len(r.snapshots))}"
                             f", over the budget of {size_text(SNAPSHOT_BUDGET, binary=True)}")
        folder = f"runs/{r.id}/"
        members[folder + "run.json"] = metrics_to_json(r.card, f"{folder}run.json").encode()
        members[folder + "graph.json"] = graph_to_json(r.graph).encode("utf-8")
        members[folder + "weights.npz"] = _npz(r.weights)
        members[folder + "metrics.json"] = metrics_to_json(
            r.metrics, f"{folder}metrics.json").encode("utf-8")
        if r.curves:
            members[folder + "curves.npz"] = _npz(r.curves)
        if r.snapshots is not None:
            members[folder + "snapshots.npz"] = r.snapshots

    def write(f: IO[bytes]) -> None:
        with zipfile.ZipFile(f, "w", zipfile.ZIP_DEFLATED) as z:
            for name, data in members.items():
                z.writestr(name, data)
    write_atomic(path, write)


def _npz(arrays: dict[str, np.ndarray]) -> bytes:
    buf = io.BytesIO()
    np.savez(buf, **weight_arrays(arrays))
    return buf.getvalue()


# --- reading --------------------------------------------------------------------------------
def is_project(path: str | os.PathLike) -> bool:
    """Whether `path` is a zip holding project.json (a project, not only a bundle). Only a
    regular file can be one: a named pipe or a device is never opened here (opening a pipe
    waits for a writer, and the window asks this before it reads off the GUI thread)."""
    if not os.path.isfile(path):
        return False
    try:
        with zipfile.ZipFile(path) as z:
            return "project.json" in z.namelist()
    except (OSError, zipfile.BadZipFile, ValueError):
        return False


def load_project(path: str | os.PathLike) -> Project:
    """Read a project file, or an old model bundle as a project with one imported run.
    Every problem is a FileFormatError naming the file and the member."""
    source = str(path)
    raw = read_file_bytes(path, "project file")
    if not raw.startswith(b"PK"):
        raise FileFormatError(f"{source}: is not a project or model bundle (a zip archive)")
    try:
        with zipfile.ZipFile(io.BytesIO(raw)) as z:
            check_zip_members(z, source, FileFormatError,
                              small=tuple(n for n in z.namelist() if n.endswith(".json")))
            return _Reader(z, source).project()
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError) as e:
        raise FileFormatError(f"{source}: is not a valid project file ({e})") from None


class _Reader:
    """Reads one open zip whose members' sizes were checked (snapshots: here)."""

    def __init__(self, z: zipfile.ZipFile, source: str):
        self.z = z
        self.source = source
        self.names = set(z.namelist())

    def project(self) -> Project:
        if "graph.json" not in self.names:
            raise FileFormatError(f"{self.source}: has no graph.json (a project or model "
                                  "bundle holds one)")
        graph = self.graph("graph.json")
        if "project.json" not in self.names:
            return self.bundle(graph)
        index = self.json("project.json")
        if not isinstance(index, dict) or index.get("format") != PROJECT_FORMAT:
            raise FileFormatError(f"{self.source}/project.json: is not a project index "
                                  f"(\"format\" must be \"{PROJECT_FORMAT}\")")
        version = index.get("version")
        if not isinstance(version, int) or version > PROJECT_VERSION:
            raise FileFormatError(f"{self.source}: project version {version!r} is newer than "
                                  f"this program reads ({PROJECT_VERSION}); update nnengine")
        entries = index.get("runs")
        if not isinstance(entries, list):
            raise FileFormatError(f"{self.source}/project.json: \"runs\" must be a list")
        runs = [self.run(e) for e in entries]
        if len({r.id for r in runs}) != len(runs):
            raise FileFormatError(f"{self.source}/project.json: two runs share one id")
        selected = index.get("selected")
        if selected is not None and selected not in {r.id for r in runs}:
            selected = None
        return Project(graph, runs, selected)

    def run(self, entry: Any) -> ProjectRun:
        if not isinstance(entry, dict) or not isinstance(entry.get("id"), str) \
                or not RUN_ID.match(entry["id"]):
            raise FileFormatError(f"{self.source}/project.json: a run entry needs a plain "
                                  f"\"id\", found {str(entry)[:60]}")
        run_id = entry["id"]
        folder = f"runs/{run_id}/"
        for member in ("run.json", "graph.json", "weights.npz"):
            if folder + member not in self.names:
                raise FileFormatError(f"{self.source}: run {run_id!r} has no {member}")
        card = self.json(folder + "run.json")
        if not isinstance(card, dict):
            raise FileFormatError(f"{self.source}/{folder}run.json: is not a run card")
        metrics = self.json(folder + "metrics.json") if folder + "metrics.json" in self.names \
            else {}
        curves = weights_from_bytes(self.read(folder + "curves.npz"),
                                    f"{self.source}/{folder}curves.npz") \
            if folder + "curves.npz" in self.names else {}
        snapshots = self.read(folder + "snapshots.npz", SNAPSHOT_BUDGET) \
            if folder + "snapshots.npz" in self.names else None
        name = entry.get("name")
        return ProjectRun(run_id, name if isinstance(name, str) and name else run_id, card,
                          self.graph(folder + "graph.json"),
                          weights_from_bytes(self.read(folder + "weights.npz"),
                                             f"{self.source}/{folder}weights.npz"),
                          metrics if isinstance(metrics, dict) else {}, curves, snapshots)

    def bundle(self, graph: Graph) -> Project:
        """An old model bundle: its graph, and its weights as one imported run."""
        if "weights.npz" not in self.names:
            return Project(graph, [], None, is_bundle=True)
        weights = weights_from_bytes(self.read("weights.npz"), f"{self.source}/weights.npz")
        metrics = self.json("metrics.json") if "metrics.json" in self.names else {}
        metrics = metrics if isinstance(metrics, dict) else {}
        run = ProjectRun("run-1", "imported", imported_card(graph, metrics), graph.copy(),
                         weights, metrics)
        return Project(graph, [run], run.id, is_bundle=True)

    # --- members ----------------------------------------------------------------------------
    def read(self, name: str, limit: int | None = None) -> bytes:
        size = self.z.getinfo(name).file_size
        if limit is not None and size > limit:
            raise FileFormatError(f"{self.source}/{name}: inflates to {size_text(size, True)}, "
                                  f"over the limit of {size_text(limit, True)}")
        return self.z.read(name)

    def graph(self, name: str) -> Graph:
        text = decode_graph_text(self.read(name), f"{self.source}/{name}")
        return graph_from_json(text, f"{self.source}/{name}")

    def json(self, name: str) -> Any:
        try:
            return json.loads(self.read(name).decode("utf-8"))
        except (ValueError, RecursionError) as e:
            raise FileFormatError(f"{self.source}/{name}: is not valid JSON ({e})") from None


def imported_card(graph: Graph, metrics: dict[str, Any]) -> dict[str, Any]:
    """The run card of weights that came without one (an old bundle): what its graph's
    training block and metrics say; the data set's hash, when the run started, how long it
    took and how it ended are not known (null)."""
    from .training_config import TrainingConfig

    try:
        training = TrainingConfig.from_dict(graph.training).to_dict()
    except NNEngineError:   # a bad training block still opens; the training panel says why
        training = dict(graph.training)
    epochs = metrics.get("epochs") if isinstance(metrics.get("epochs"), list) else []
    test = metrics.get("test") if isinstance(metrics.get("test"), dict) else None
    return run_card(graph, training, {"name": training.get("dataset"), "sha256": None},
                    None, None, len(epochs), None, test)


__all__ = [
    "PROJECT_FORMAT",
    "PROJECT_VERSION",
    "SNAPSHOT_BUDGET",
    "Project",
    "ProjectRun",
    "imported_card",
    "is_project",
    "load_project",
    "save_project",
]
