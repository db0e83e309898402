"""`json`: any JSON object, or a list of them, with the bearer token of /leads (or the one in
the source's `secret_env`). The default mapping is the object's top-level values.

Set up: the sending system (a partner's feed, Zapier, a script) posts to
https://YOUR-SERVER/sources/NAME with `Authorization: Bearer <token>`: copy it the intake token
(ROTATION_INTAKE_TOKEN), or give the source its own token in the environment variable named by
`secret_env`."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any, ClassVar

from bot.routing.rules.lead_fields import read_json
from bot.sources.kind import Kind, RawRequest, Refused, Split
from bot.sources.signatures import same

if TYPE_CHECKING:  # the config validates against the kinds: types only, no import cycle
    from bot.sources.config import SourceConfig


class JsonKind(Kind):
    name = "json"
    secret = "the bearer token senders use"
    intake_token = True
    challenge: ClassVar[Mapping[str, str]] = {"WWW-Authenticate": "Bearer"}  # what a 401 sends: the scheme

    @property
    def auth_headers(self) -> tuple[str, ...]:
        return ("Authorization",)

    def authenticate(self, request: RawRequest, source: SourceConfig, secret: str | None,
                     now: datetime) -> None:
        given = request.headers.get("Authorization", "")
        scheme, _, token = given.strip().partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise Refused(401, "Send the intake token as `Authorization: Bearer <token>`.")
        if secret is None or not same(token, secret):
            raise Refused(401, "The bearer token is not this source's token.")

    def read(self, request: RawRequest, source: SourceConfig, secret: str | None, now: datetime,
             content_type: str) -> Split:
        self.authenticate(request, source, secret, now)
        try:  # a body that is not JSON at all is the sender's mistake, told at once (400)
            read_json(request.body)
        except (ValueError, UnicodeDecodeError, RecursionError) as error:
            raise Refused(400, f"The body is not valid JSON ({str(error)[:160]}).") from None
        return self.split(request.body, content_type)

    def split(self, body: bytes, content_type: str) -> Split:
        try:
            data: Any = read_json(body)
        except (ValueError, UnicodeDecodeError, RecursionError) as error:
            return Split(problem=f"the body is not JSON ({str(error)[:160]})")
        if isinstance(data, dict):
            return Split(payloads=[data])
        if isinstance(data, list) and data:
            return self.events(data)
        return Split(problem="the body is JSON but neither an object nor a non-empty list of objects")

    def default_fields(self, payload: dict[str, Any]) -> dict[str, Any]:
        return {}  # the object's top-level values, which every mapping starts from
