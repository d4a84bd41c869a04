"""The training controller's states.

idle → starting → running ⇄ paused → finished | stopped; stopping while a stop is on its way;
diverged (a pause after NaN/inf: the training process has ended, resume starts a new one from
the last finite weights); failed (the process reported an error, or died). `ACTIVE`: a
training process is working on a run.

A `StrEnum`, so signals carry the states as plain strings and the two compare equal.
"""
from __future__ import annotations

from enum import StrEnum


class TrainingState(StrEnum):
    IDLE = "idle"
    STARTING = "starting"
    RUNNING = "running"
    PAUSED = "paused"
    STOPPING = "stopping"
    FINISHED = "finished"
    STOPPED = "stopped"
    DIVERGED = "diverged"
    FAILED = "failed"


ACTIVE = frozenset({TrainingState.STARTING, TrainingState.RUNNING, TrainingState.PAUSED,
                    TrainingState.STOPPING})
TRAINED = "training"      # `weights_source` of weights learned by a run
