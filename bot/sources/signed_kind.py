"""The kinds whose sender signs the body with an HMAC-SHA256 of a shared secret (Typeform,
Tally, Webflow, HubSpot, Calendly): one sequence for all of them (read the signature, check
its timestamp, sign what the vendor signs, compare in constant time, refuse), with what
differs between vendors as attributes: the headers, a prefix, the encoding, the message."""

from __future__ import annotations

from abc import ABC
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, ClassVar, Literal

from bot.sources.kind import Kind, RawRequest, Refused
from bot.sources.signatures import b64, bad_signature, header, hmac_sha256, same, timestamp

if TYPE_CHECKING:
    from bot.sources.config import SourceConfig


@dataclass(frozen=True, slots=True)
class Signature:
    """What a request says of its signature: the signature as sent (prefix removed), and the
    signed timestamp as sent when the vendor signs one."""

    given: str
    sent_at: str | None = None


class SignedKind(Kind, ABC):
    """A kind signed as most webhook senders sign: HMAC-SHA256 of `signed_messages` with the
    source's secret, encoded as `encoding`, in `signature_header` after `prefix`."""

    vendor: ClassVar[str]  # the product's name, as refusals say it
    signature_header: ClassVar[str]
    prefix: ClassVar[str] = ""  # what the signature header starts with ("sha256=")
    encoding: ClassVar[Literal["base64", "hex"]]
    timestamp_header: ClassVar[str | None] = None  # where the signed time is, when it is a header
    milliseconds: ClassVar[bool] = False  # the timestamp counts milliseconds, not seconds
    mismatch_hint: ClassVar[str] = "secret"  # a wrong signature says secret_env should hold this
    timestamp_label: ClassVar[str | None] = None  # how refusals name the timestamp (default: its header)

    @property
    def auth_headers(self) -> tuple[str, ...]:
        return tuple(name for name in (self.signature_header, self.timestamp_header) if name)

    @property
    def timestamp_name(self) -> str:
        """The signed timestamp as a refusal names it."""
        return self.timestamp_label or self.timestamp_header or self.signature_header

    def signature(self, request: RawRequest) -> Signature:
        """The signature and timestamp the request carries; Refused when they are missing or
        not in the vendor's format."""
        given = header(request, self.signature_header, self.vendor)
        if not given.startswith(self.prefix):
            raise Refused(401, f"The {self.signature_header} header must start with `{self.prefix}`.")
        sent_at = header(request, self.timestamp_header, self.vendor) if self.timestamp_header else None
        return Signature(given[len(self.prefix):], sent_at)

    def signed_messages(self, request: RawRequest, sent_at: str | None) -> Iterable[bytes]:
        """What the vendor may have signed (several when it signs an address we can only guess
        among); the raw body unless the vendor signs more."""
        return (request.body,)

    def encode(self, digest: bytes) -> str:
        return b64(digest) if self.encoding == "base64" else digest.hex()

    def authenticate(self, request: RawRequest, source: SourceConfig, secret: str | None,
                     now: datetime) -> None:
        signature = self.signature(request)
        if signature.sent_at is not None:
            timestamp(signature.sent_at, self.timestamp_name, now, milliseconds=self.milliseconds)
        if secret is not None:
            for message in self.signed_messages(request, signature.sent_at):
                if same(signature.given, self.encode(hmac_sha256(secret, message))):
                    return
        raise bad_signature(self.vendor, self.mismatch_hint)
