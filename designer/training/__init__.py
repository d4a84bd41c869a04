"""Training in the designer: a controller on the GUI thread, a worker on a QThread running the
engine's Trainer, and a bounded mailbox between them (see controller.py)."""
