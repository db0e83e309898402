"""HTTP for the CRM clients: one aiohttp session, bounded answers, statuses read as errors.

What every vendor shares lives here: a timeout per call, redirects never followed (the
token would go wherever the answer points), at most MAX_ANSWER_BYTES of an answer read,
and the reading of a failed status: 429, 408, 425 and 5xx are tried again (after the
answer's `Retry-After`, seconds or an HTTP date), a redirect is tried again too (a moved
API base is the operator's to fix), any other 4xx never. Each vendor's client turns its own
error bodies into words (`vendor_words`) and decides the cases its API makes special.

Errors name the host and the kind of failure, never the URL: Pipedrive's token rides in
the query string.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import aiohttp
from yarl import URL

from bot.crm.errors import CrmError, quoted
from bot.delivery.retry_after import retry_after_seconds

MAX_ANSWER_BYTES = 1024 * 1024  # a page of owners is far less; a larger answer is not a CRM's
DEFAULT_TIMEOUT = 15.0  # seconds per call
RETRYABLE = frozenset({408, 425, 429})
USER_AGENT = "rotation-bot (lead owner write-back)"


@dataclass(frozen=True, slots=True)
class Answer:
    """A CRM's answer: its status, headers, and the JSON body (None when it had none or
    was not JSON)."""

    status: int
    headers: Mapping[str, str]
    body: Any

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300


class CrmHttp:
    """The session the clients of one process share (created on first use, closed once)."""

    def __init__(self, *, timeout: float = DEFAULT_TIMEOUT) -> None:
        self.timeout = aiohttp.ClientTimeout(total=timeout)
        self._session: aiohttp.ClientSession | None = None

    async def request(self, vendor: str, method: str, url: str, *, params: Mapping[str, str] | None = None,
                      json_body: Any = None, form: Mapping[str, str] | None = None,
                      headers: Mapping[str, str] | None = None) -> Answer:
        """One call; CrmError (retried later) when the CRM could not be reached."""
        if self._session is None:
            self._session = aiohttp.ClientSession(timeout=self.timeout, headers={"User-Agent": USER_AGENT})
        try:
            async with self._session.request(method, url, params=params, json=json_body, data=form,
                                             headers=headers, allow_redirects=False) as response:
                raw = await _read(response)
                return Answer(response.status, dict(response.headers), _json(raw))
        except (aiohttp.ClientError, TimeoutError, OSError) as error:
            where = _host(url)
            raise CrmError(f"{vendor} could not be reached at {where} ({type(error).__name__})") from None

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None


def failure(vendor: str, what: str, answer: Answer, words: Callable[[Any], str | None],
            *, retry_after_header: str | None = None) -> CrmError:
    """The error a failed answer is: `"<vendor> answered <status> to <what>: <its words>"`,
    retried or not as the module's docstring says."""
    said = words(answer.body)
    text = f"{vendor} answered {answer.status} to {what}" + (f": {quoted(said)}" if said else "")
    retry_after = retry_after_seconds(_header(answer.headers, "Retry-After"))
    if retry_after is None and retry_after_header:
        retry_after = retry_after_seconds(_header(answer.headers, retry_after_header))
    status = answer.status
    if 300 <= status < 400:
        return CrmError(f"{text} (a redirect, not followed: check the API URL)", retry_after=retry_after)
    permanent = 400 <= status < 500 and status not in RETRYABLE
    return CrmError(text, retry_after=retry_after, permanent=permanent, rate_limited=status == 429)


def _header(headers: Mapping[str, str], name: str) -> str | None:
    wanted = name.lower()
    return next((value for key, value in headers.items() if key.lower() == wanted), None)


async def _read(response: aiohttp.ClientResponse) -> bytes:
    chunks, size = [], 0
    while size <= MAX_ANSWER_BYTES and (chunk := await response.content.read(64 * 1024)):
        chunks.append(chunk)
        size += len(chunk)
    return b"".join(chunks)[: MAX_ANSWER_BYTES + 1]


def _json(raw: bytes) -> Any:
    if not raw or len(raw) > MAX_ANSWER_BYTES:
        return None
    try:
        return json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        return None


def _host(url: str) -> str:
    try:
        return URL(url).host or "?"
    except (ValueError, TypeError):
        return "?"
