"""The health panel says only what it has judged: before the first epoch ends it does not
claim that the loss is improving."""
from __future__ import annotations

from designer.plots.health import HealthPanel
from nnengine.diagnostics import WARNING, Alarm


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
