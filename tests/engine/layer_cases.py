"""Cases for the layer contract test; each family module `cases_*.py` adds its own list.

A case is one layer configuration with its input shapes (without batch). `int_inputs`
maps an input index to a vocabulary size: that input carries integer ids.
"""
from __future__ import annotations

import importlib
import pkgutil
from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True)
class Case:
    type: str
    params: dict
    input_shapes: list
    training: bool = False
    int_inputs: dict = field(default_factory=dict)
    batch: int = 3
    label: str = ""

    @property
    def id(self) -> str:
        return f"{self.type}-{self.label}" if self.label else f"{self.type}-{self.params}"


def all_cases() -> list[Case]:
    here = Path(__file__).parent
    cases: list[Case] = []
    for mod in sorted(pkgutil.iter_modules([str(here)]), key=lambda m: m.name):
        if mod.name.startswith("cases_"):
            cases += importlib.import_module(f"tests.engine.{mod.name}").CASES
    return cases
