"""What every kind of source is: everything about it lives on its `Kind` (its config name,
what its `secret_env` holds in words for `config check`, the options it takes, whether it
falls back on the intake token), with how to tell its requests are authentic, how to split a
body into payloads, the default mapping of a payload, and how to answer its sender. The
config (`bot.sources.config`) and the web layer derive everything from the kind objects in
`bot.sources.registry`: adding a kind is one module in kinds/ and one line there.

Kinds know nothing of aiohttp or the database: they take a `RawRequest` (the bytes, headers
and query string as they arrived) and give back plain data, so each is tested on its own and
the whole flow (`bot.sources.intake`) is the same for every sender.
"""

from __future__ import annotations

import json
from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, ClassVar

from multidict import MultiDict, MultiDictProxy, MultiMapping

from bot.routing.rules.lead_fields import read_json

if TYPE_CHECKING:  # the config validates against the kinds, so they import it for types only
    from bot.sources.config import SourceConfig


def no_query() -> MultiMapping[str]:
    return MultiDictProxy(MultiDict())


@dataclass(frozen=True, slots=True)
class RawRequest:
    """A request as it arrived. `urls` are the addresses the sender may have called (what this
    server saw, what a proxy says it was, the configured `public_url`): HubSpot signs its URL.
    `query` is the query string's values, each name as often as it came (a sender that signs
    nothing can still carry a token in the address it is given)."""

    method: str
    headers: Mapping[str, str]  # case-insensitive, as aiohttp's are
    body: bytes
    urls: tuple[str, ...] = ()
    query: MultiMapping[str] = field(default_factory=no_query)


class Refused(Exception):
    """Not an authentic request of this kind (or not one at all): answered with `status`,
    and nothing is stored."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass(slots=True)
class Split:
    """What a body holds: payloads to map, events that are authentic but no new lead (a
    cancelled booking: answered 2xx and left alone), or a problem with the body as a whole
    (then it is parked as it came)."""

    payloads: list[dict[str, Any]] = field(default_factory=list)
    ignored: list[str] = field(default_factory=list)
    problem: str | None = None


@dataclass(frozen=True, slots=True)
class Answer:
    status: int
    body: bytes
    content_type: str = "application/json"
    headers: Mapping[str, str] = field(default_factory=dict)

    @staticmethod
    def json(status: int, data: Any, headers: Mapping[str, str] | None = None) -> Answer:
        return Answer(status, json.dumps(data).encode(), "application/json", headers or {})


@dataclass(frozen=True, slots=True)
class Delivered:
    """What became of a request: each payload routed (its outcome as /leads answers it),
    parked (with its reason) or ignored, in the order they came."""

    routed: list[dict[str, Any]]
    created: list[bool]
    parked: list[dict[str, Any]]
    ignored: list[str]


class Kind(ABC):
    """The base every kind extends; the defaults fit a JSON webhook. A kind states, as class
    attributes, what `config check` and the web layer need to know of it."""

    name: ClassVar[str]  # its name in `kind:`
    secret: ClassVar[str | None] = None  # what its `secret_env` holds, in words; None: it takes none
    unsigned_because: ClassVar[str] = ""  # with `secret` None: why it takes no `secret_env`
    intake_token: ClassVar[bool] = False  # without `secret_env`, it takes the /leads bearer token
    options: ClassVar[frozenset[str]] = frozenset()  # the kind-only options it takes (`redirect`…)
    challenge: ClassVar[Mapping[str, str]] = {}  # the headers a 401 sends (WWW-Authenticate)

    @property
    def auth_headers(self) -> tuple[str, ...]:
        """The headers it reads to authenticate: each must come at most once (checked before
        `authenticate`, so a sender cannot smuggle a second value past it)."""
        return ()

    @property
    def needs_secret_env(self) -> bool:
        return self.secret is not None and not self.intake_token

    def check(self, source: SourceConfig) -> str | None:
        """What is wrong with a source of this kind beyond the shared rules (config check names
        it at the source's line), or None."""
        return None

    @abstractmethod
    def authenticate(self, request: RawRequest, source: SourceConfig, secret: str | None,
                     now: datetime) -> None:
        """Raise Refused unless the request is the sender's own."""

    def split(self, body: bytes, content_type: str) -> Split:
        """The payloads a body holds (already authentic: replays call this alone)."""
        try:
            data = read_json(body)
        except (ValueError, UnicodeDecodeError, RecursionError) as error:
            return Split(problem=f"the body is not JSON ({_short(error)})")
        if not isinstance(data, dict):
            return Split(problem=f"the body is JSON but not an object, as {self.name} sends")
        return self.events([data])

    def events(self, items: list[Any]) -> Split:
        """Keep the items that are new leads; say why the others are not."""
        split = Split()
        for item in items:
            if not isinstance(item, dict):
                split.problem = split.problem or "an item of the body is not a JSON object"
                continue
            why_not = self.not_a_lead(item)
            if why_not is None:
                split.payloads.append(item)
            else:
                split.ignored.append(why_not)
        return split

    def not_a_lead(self, payload: dict[str, Any]) -> str | None:
        """Why an authentic event is no new lead (a cancellation, an update), or None."""
        return None

    def read(self, request: RawRequest, source: SourceConfig, secret: str | None, now: datetime,
             content_type: str) -> Split:
        self.authenticate(request, source, secret, now)
        return self.split(request.body, content_type)

    @abstractmethod
    def default_fields(self, payload: dict[str, Any]) -> dict[str, Any]:
        """The kind's documented mapping of one payload (before `fields`; the payload's
        top-level scalars come with it anyway)."""

    def answer(self, source: SourceConfig, delivered: Delivered) -> Answer:
        """One new or repeated lead is answered as /leads answers it; anything else with a
        summary. Always 2xx: senders disable webhooks that get errors."""
        if len(delivered.routed) == 1 and not delivered.parked:
            return Answer.json(201 if delivered.created[0] else 200, delivered.routed[0])
        summary = {"source": source.name, "leads": delivered.routed, "parked": delivered.parked,
                   "ignored": delivered.ignored}
        return Answer.json(202 if delivered.parked and not delivered.routed else 200, summary)


def _short(error: Exception, limit: int = 160) -> str:
    text = str(error) or type(error).__name__
    return text if len(text) <= limit else text[:limit] + "…"
