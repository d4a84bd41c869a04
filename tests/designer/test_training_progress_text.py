"""What the panel and the status bar say about progress while paused, stepping and after."""
from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from designer.training.panel import TrainingPanel
from designer.training.states import TrainingState

from .test_training import run, template, wait_for  # noqa: F401  (run is a fixture)


def test_pause_and_step_show_the_batch_reached_and_no_time_left(qtbot, run):  # noqa: F811
    c, _ = run(template("digits_cnn", epochs=200), dashboard=False)
    panel = TrainingPanel(c)
    qtbot.addWidget(panel)
    c.start()
    wait_for(qtbot, lambda: c.state == TrainingState.RUNNING and len(c.metrics) > 3)
    c.pause()
    qtbot.wait(300)   # batches finished before the pause arrive, then nothing
    c.poll()
    p = c.progress
    assert panel.progress.format() == p.position()
    assert f"batch {p.batch}/" in panel.progress.format()
    assert "left" not in panel.speed.text() and "samples/s" not in panel.speed.text()
    before = p.step
    c.step()
    wait_for(qtbot, lambda: (c.poll(), c.progress.step)[1] == before + 1)
    assert panel.progress.format() == c.progress.position()   # shown at once, +1
    assert "left" not in panel.speed.text()
    c.resume()
    wait_for(qtbot, lambda: (c.poll(), "left" in panel.speed.text())[1])
    c.stop()
    assert c.wait(30_000)
    assert "left" not in panel.speed.text()
