"""The health panel says only what it has judged: before the first epoch ends it does not
claim that the loss is improving."""
from __future__ import annotations

from designer.plots.health import HealthPanel
from nnengine.diagnostics import INFO, WARNING, Alarm


def test_the_loss_is_not_called_improving_before_an_epoch_has_ended(qtbot):
    panel = HealthPanel()
    qtbot.addWidget(panel)
    assert "Train the network" in panel.status.text()
    panel.set_alarms([], started=True, epochs=0)
    assert "so far" in panel.status.text() and "improving" not in panel.status.text()
    panel.set_alarms([], started=True, epochs=3)
    assert "No problems found" in panel.status.text() and "improving" in panel.status.text()
    panel.set_alarms([Alarm(WARNING, None, "The training loss is flat.", "flat_loss")],
                     epochs=9)
    assert panel.status.text() == "1 warning." and panel.list.count() == 1


def test_a_note_alone_keeps_the_no_problems_verdict_and_is_listed(qtbot):
    panel = HealthPanel()
    qtbot.addWidget(panel)
    note = Alarm(INFO, "tanh3", "40% of the tanh units of tanh3 are saturated.", "saturated")
    panel.set_alarms([note], started=True, epochs=4)
    assert panel.status.text().startswith("✓ No problems found")
    assert panel.status.text().endswith("1 note below.") and panel.list.count() == 1
    panel.set_alarms([Alarm(WARNING, None, "The training loss is flat.", "flat_loss"), note],
                     epochs=9)
    assert panel.status.text() == "1 warning." and panel.list.count() == 2
