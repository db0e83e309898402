"""Where a paged answer is: a queue (or none: every queue) and a page number.

Why one small type: App Home's queue pages and `/rotation who`'s pages both travel in what
Slack hands back (a button's value, a view's private_metadata), so both are read with the
same suspicion: JSON of bounded size, a string queue or none, a page that is a small number.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

MAX_PAGE = 10**6


@dataclass(frozen=True, slots=True)
class Place:
    queue: str | None = None
    page: int = 0

    def to_json(self) -> str:
        return json.dumps({"queue": self.queue, "page": self.page})

    @staticmethod
    def read(raw: object) -> Place:
        """The place a button value or private_metadata names; the start for anything else."""
        try:
            data = json.loads(raw) if isinstance(raw, str) and len(raw) <= 3000 else None
        except ValueError:
            data = None
        if not isinstance(data, dict):
            return Place()
        queue, page = data.get("queue"), data.get("page")
        if not isinstance(page, int) or isinstance(page, bool) or not 0 <= page < MAX_PAGE:
            page = 0
        return Place(queue if isinstance(queue, str) else None, page)


START = Place()  # the first page of everything
