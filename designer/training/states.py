"""The training controller's states, as plain strings (signals carry them; tests compare them).

idle → starting → running ⇄ paused → finished | stopped; stopping while a stop is on its way;
diverged (a pause after NaN/inf); failed. `ACTIVE`: a run's thread is alive.
"""
from __future__ import annotations

IDLE, STARTING, RUNNING, PAUSED = "idle", "starting", "running", "paused"
STOPPING, FINISHED, STOPPED, DIVERGED, FAILED = (
    "stopping", "finished", "stopped", "diverged", "failed")
ACTIVE = (STARTING, RUNNING, PAUSED, STOPPING)
TRAINED = "training"      # `weights_source` of weights learned by a run
