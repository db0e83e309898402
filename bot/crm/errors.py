"""A failed CRM call, in the words and with the hints the delivery loop reads.

A `CrmError` is a `DeliveryError`: `retry_after` when the CRM said when to come back
(bounded, see `bot.delivery.retry_after`), `permanent` when the same call can never succeed
(a record that does not exist, a token the CRM refuses, an email that matches no owner), so
the message is given up on at once and the managers are told, instead of retried for hours.
"""

from __future__ import annotations

from bot.delivery.transports import DeliveryError, one_line

MAX_WORDS = 300  # characters of what a CRM said, quoted in an error


class CrmError(DeliveryError):
    """A CRM call that failed; `str()` says which CRM, what was asked, and what it answered."""


def quoted(text: object) -> str:
    """Text from a CRM's answer, fit to quote: one line, bounded."""
    return one_line(str(text))[:MAX_WORDS]
