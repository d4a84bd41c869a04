"""Live training plots (pyqtgraph), one module per kind of view, composed by `dashboard`."""
