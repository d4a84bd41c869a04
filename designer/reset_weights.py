"""Train ▸ Reset Weights: start again from a fresh initialisation, drawn from the graph's
seed or from a new seed (the new seed is written to the training block, one undo step, so
the run can be repeated)."""
from __future__ import annotations

import secrets
from typing import TYPE_CHECKING

from PySide6.QtWidgets import QMessageBox

from nnengine import NNEngineError

if TYPE_CHECKING:
    from .main_window import MainWindow

SEED_LIMIT = 2**31


def reset_weights(window: MainWindow, new_seed: bool = False) -> bool:
    """Fresh weights for the open graph (with `new_seed`, from a new random seed)."""
    controller = window.training
    if controller.is_active:
        window.show_message("Stop training before resetting the weights")
        return False
    if new_seed:
        doc = window.document
        doc.set_training({**doc.graph.training, "seed": secrets.randbelow(SEED_LIMIT)})
    try:
        controller.reset_weights()
    except NNEngineError as e:
        QMessageBox.warning(window, "Reset weights", str(e))
        return False
    return True


def install_reset_weights(window: MainWindow) -> None:
    """Add the two actions to the Train menu, after the weight actions."""
    a = window.add_action
    a("reset_weights", "Reset &Weights", lambda: reset_weights(window), None, None,
      "Forget the learned weights: fresh ones from the training seed")
    a("reset_weights_new_seed", "Reset Weights with a &New Seed",
      lambda: reset_weights(window, new_seed=True), None, None,
      "Fresh weights from a new random seed (written to the training settings)")
    menu = window.training_actions.menu
    menu.addSeparator()
    menu.addAction(window.actions["reset_weights"])
    menu.addAction(window.actions["reset_weights_new_seed"])
    controller = window.training

    def enable(_state: str = "") -> None:
        for key in ("reset_weights", "reset_weights_new_seed"):
            window.actions[key].setEnabled(not controller.is_active)

    controller.state_changed.connect(enable)
    enable()
