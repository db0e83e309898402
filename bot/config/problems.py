"""One thing `config check` says about a place in the file: an error, a warning or a note.

Errors make the config invalid (nothing is applied); warnings are for a config that
applies but will likely not do what its author meant (every lead waiting, say); notes
say how something written loosely was read (shares that rounding left at 99.9%).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Level = Literal["error", "warning", "note"]


@dataclass(frozen=True, slots=True)
class ConfigProblem:
    path: str
    message: str
    line: int | None = None
    level: Level = "error"

    def render(self, source: str = "config") -> str:
        """`routing.yaml:23: queues[1].weight: must be > 0`; warnings and notes say which they are."""
        where = f"{source}:{self.line}: " if self.line else f"{source}: "
        kind = "" if self.level == "error" else f"{self.level}: "
        return f"{where}{kind}{self.path}: {self.message}" if self.path else f"{where}{kind}{self.message}"

    def at(self, line: int | None) -> ConfigProblem:
        return ConfigProblem(self.path, self.message, line, self.level)
