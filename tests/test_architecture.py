"""The direction of imports: the engine stays Qt-free (importing all of nnengine must not
load PySide6 or pyqtgraph, so it runs headless on any machine), and the document does not
import the canvas that draws it."""
from __future__ import annotations

import subprocess
import sys


def test_importing_nnengine_loads_no_qt():
    code = ("import sys, pkgutil, importlib, nnengine\n"
            "for m in pkgutil.walk_packages(nnengine.__path__, 'nnengine.'):\n"
            "    if not m.name.endswith('__main__'):\n"
            "        importlib.import_module(m.name)\n"
            "bad = [m for m in sys.modules if m.split('.')[0] in "
            "('PySide6', 'shiboken6', 'pyqtgraph')]\n"
            "print(' '.join(bad))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == ""


def test_the_document_does_not_import_the_canvas():
    """The document owns the graph; the canvas draws it: the arrow points one way only."""
    code = ("import sys, designer.document\n"
            "print(' '.join(m for m in sys.modules if m.startswith('designer.canvas')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == ""
