"""Training in the designer: a controller in the window, the engine's Trainer in a process of
its own, and messages only between them (see controller.py, process.py and child.py)."""
