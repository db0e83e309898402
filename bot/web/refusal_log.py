"""aiohttp's log of a malformed request, cut to one bounded line.

aiohttp answers a request it cannot parse (a garbage request line, a bad header byte,
headers over its limits) with a 400 and logs "Error handling request" with a full
traceback, which quotes what the client sent. Anyone can send such requests, so each
becomes one line instead: who, the status, and aiohttp's reason escaped and bounded.
Anything else logged there (an error in our own code) keeps its traceback.
"""

from __future__ import annotations

import logging

from aiohttp.http_exceptions import HttpProcessingError
from aiohttp.web import RequestPayloadError

from bot.web.log_text import quoted

LOGGER_NAME = "bot.web.refusals"


class OneLineRefusals(logging.Filter):
    """Rewrites a record whose exception is a malformed request into one plain line.

    Two records are the client's doing: "Error handling request" for a request aiohttp
    cannot parse, and "Unhandled exception" for a body it cannot decode (a bad chunk, a
    gzip body that is not gzip), met when it reads the rest of a body the handler refused.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        error = record.exc_info[1] if record.exc_info else None
        if isinstance(error, HttpProcessingError):
            remote = record.args[0] if isinstance(record.args, tuple) and record.args else "?"
            reason = " ".join(str(error.message).split()) or type(error).__name__
            _one_line(record, "refused a malformed request from %s with %s: %s",
                      (quoted(remote, 60), error.code or 400, quoted(reason)))
        elif isinstance(error, RequestPayloadError):
            reason = " ".join(str(error).split()) or type(error).__name__
            _one_line(record, "stopped reading a body that could not be decoded: %s", (quoted(reason),))
        return True


def _one_line(record: logging.LogRecord, message: str, args: tuple[object, ...]) -> None:
    record.msg, record.args = message, args
    record.exc_info = None
    record.exc_text = None
    if record.levelno > logging.INFO:  # the client's mistake, not an error of ours
        record.levelno, record.levelname = logging.INFO, "INFO"


def refusal_logger() -> logging.Logger:
    """The logger aiohttp's request handler writes to (in place of `aiohttp.server`)."""
    logger = logging.getLogger(LOGGER_NAME)
    if not any(isinstance(existing, OneLineRefusals) for existing in logger.filters):
        logger.addFilter(OneLineRefusals())
    return logger
