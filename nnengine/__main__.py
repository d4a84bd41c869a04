"""`python -m nnengine ...`: the same command as `nnengine ...`."""
from __future__ import annotations

import sys

from .cli import main

sys.exit(main())
