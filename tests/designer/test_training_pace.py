"""The pace control and the snapshots of short runs."""
from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from designer.training.pacer import Pacer, pace_text
from designer.training.states import TrainingState

from .test_training import run, template, wait_for  # noqa: F401  (run is a fixture)


class FakeClock:
    def __init__(self):
        self.now = 0.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def test_pacer_spaces_batches_and_gives_way_to_a_command():
    clock = FakeClock()
    pacer = Pacer(10.0, clock, clock.sleep)
    for _ in range(5):
        pacer.wait(lambda: False)
    assert abs(clock.now - 0.5) < 1e-9          # five batches at ten a second
    clock.now += 0.01                           # a batch that takes 10 ms
    pacer.wait(lambda: False)
    assert abs(clock.now - 0.6) < 1e-9          # the wait shrinks to fit the slot
    before = clock.now
    pacer.wait(lambda: True)                    # a pause or stop: no waiting
    assert clock.now == before
    pacer.set(None)
    pacer.wait(lambda: False)
    assert clock.now == before                  # as fast as possible
    assert pace_text(None) == "as fast as possible" and pace_text(3.0) == "3 batches a second"


def test_a_short_run_has_a_snapshot_for_every_epoch(qtbot, run):  # noqa: F811
    c, _ = run(template("xor", epochs=20))
    c.start()
    assert c.wait(60_000) and c.state == TrainingState.FINISHED
    epochs = {round(s.x) for s in c.timeline.entries}
    assert set(range(1, 21)) <= epochs           # activations over training: every epoch


def test_a_paced_run_can_change_pace_and_stop(qtbot, run):  # noqa: F811
    from designer.training.panel import TrainingPanel

    c, _ = run(template("xor", epochs=50), dashboard=False)
    panel = TrainingPanel(c)
    qtbot.addWidget(panel)
    panel.pace.choose(10.0)
    assert c.pace == 10.0
    c.start()
    wait_for(qtbot, lambda: (c.poll(), c.progress.step)[1] >= 3)
    assert c.state == TrainingState.RUNNING and c.progress.epoch < 50   # held back
    panel.pace.choose(None)                        # as fast as possible from now on
    assert c.wait(60_000) and c.state == TrainingState.FINISHED
