"""Fuzzing POST /leads with hypothesis, on SQLite and PostgreSQL: arbitrary bytes,
arbitrary JSON, arbitrary header values, content types and encodings. Never a 5xx; every
error the app answers is JSON `{"error": "<words>"}`; a refused request stores nothing,
and an accepted one is stored once and can be read back.

Requests are written byte for byte on a socket, so no client library tidies them up.
"""

from __future__ import annotations

import asyncio
import gzip
import json
import logging
import zlib
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from web_support import TOKEN, Served, ServeFactory

FUZZ = settings(max_examples=200, deadline=None, derandomize=True,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=12)
LEAD_IDS = st.one_of(st.text(max_size=250), st.integers(), st.floats(), st.none(), st.booleans(),
                     st.sampled_from(["L-1", "", " ", "\x00", "\ud800", "a" * 201, "L-1 "]))
CONTENT_TYPES = st.one_of(st.sampled_from([
    "application/json", "application/json; charset=utf-8", "application/json; charset=latin-1",
    "text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", "",
    "application/json; charset=\"", "*/*"]), st.text(st.characters(min_codepoint=32, max_codepoint=126)))
ENCODINGS = st.sampled_from([None, "gzip", "deflate", "br", "identity", "zstd", "gzip, gzip", "x-made-up"])
# Bytes HTTP allows in a header value: visible ASCII, space, tab and obs-text (0x80-0xff).
HEADER_VALUE = st.binary(max_size=60).map(
    lambda raw: bytes(b for b in raw if b in (9, 32) or 33 <= b <= 126 or b >= 128).strip(b" \t"))
HEADER_NAME = st.text(st.sampled_from("abcdefghijklmnopqrstuvwxyz-ABCXYZ0123456789!#$%&'*+.^_`|~"),
                      min_size=1, max_size=20).filter(
    lambda n: n.lower() not in ("content-length", "transfer-encoding", "host", "connection",
                                "authorization", "content-encoding", "content-type", "expect", "upgrade"))


async def post_raw(app: Served, body: bytes, headers: list[tuple[bytes, bytes]]) -> tuple[int, str, bytes]:
    """POST /leads written byte for byte: (status, Content-Type, body)."""
    port = int(app.url.rsplit(":", 1)[1])
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    head = b"POST /leads HTTP/1.1\r\nHost: test\r\nConnection: close\r\n"
    head += b"".join(name + b": " + value + b"\r\n" for name, value in headers)
    head += b"Content-Length: %d\r\n\r\n" % len(body)
    writer.write(head + body)
    await writer.drain()
    answer = await asyncio.wait_for(reader.read(), 30)
    writer.close()
    status_line, _, rest = answer.partition(b"\r\n")
    header_block, _, content = rest.partition(b"\r\n\r\n")
    fields = {k.lower(): v for k, _, v in (line.decode("latin-1").partition(": ")
                                           for line in header_block.split(b"\r\n"))}
    return int(status_line.split()[1]), fields.get("content-type", ""), content


JSON_TYPE = (b"Content-Type", b"application/json")


def auth(token: str = TOKEN) -> tuple[bytes, bytes]:
    return b"Authorization", b"Bearer " + token.encode()


async def check_answer(app: Served, status: int, content_type: str, content: bytes,
                       caplog: pytest.LogCaptureFixture, before: int) -> Any:
    """The invariants: no 5xx, no error logged, errors in words, refusals store nothing.
    (The lingering read of a refused body logs as the connection closes: waited for here.)
    """
    assert status < 500, content[:300]
    await asyncio.sleep(0.01)
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR or r.exc_info], \
        [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    assert content_type.startswith("application/json"), (status, content_type, content[:200])
    answer = json.loads(content)
    after = (await app.counts())["leads"]
    if status >= 400:
        assert set(answer) == {"error"} and isinstance(answer["error"], str) and answer["error"].strip()
        assert after == before, answer
    else:
        assert status in (200, 201)
        assert after == before + (status == 201)
        async with app.http.get(f"{app.url}/leads/{answer['lead_id']}",
                                headers={"Authorization": f"Bearer {TOKEN}"}) as response:
            assert response.status == 200, answer["lead_id"]
    return answer


@pytest.fixture
async def app(serve: ServeFactory, database_url: str) -> Served:
    return await serve(url=database_url)


@FUZZ
@given(body=st.binary(max_size=300))
async def test_any_bytes_as_the_body(app: Served, caplog: pytest.LogCaptureFixture, body: bytes) -> None:
    """Attack: arbitrary bytes sent as a JSON lead."""
    caplog.clear()  # one app and one log for all examples: each example's own lines only
    before = (await app.counts())["leads"]
    status, content_type, content = await post_raw(app, body, [auth(), JSON_TYPE])
    await check_answer(app, status, content_type, content, caplog, before)


@FUZZ
@given(fields=st.dictionaries(st.text(max_size=20), JSON_VALUES, max_size=6), lead_id=LEAD_IDS,
       with_id=st.booleans(), top=JSON_VALUES)
async def test_any_json(app: Served, caplog: pytest.LogCaptureFixture, fields: dict[str, Any], lead_id: Any,
                        with_id: bool, top: Any) -> None:
    """Attack: arbitrary JSON, an object of any fields with any id, or any other value."""
    lead = fields | {"id": lead_id} if with_id else top
    body = json.dumps(lead, allow_nan=True).encode("utf-8", "surrogatepass")
    caplog.clear()  # one app and one log for all examples: each example's own lines only
    before = (await app.counts())["leads"]
    status, content_type, content = await post_raw(app, body, [auth(), JSON_TYPE])
    await check_answer(app, status, content_type, content, caplog, before)


def encoded(body: bytes, encoding: str | None) -> bytes:
    if encoding in ("gzip", "gzip, gzip"):
        return gzip.compress(gzip.compress(body) if encoding == "gzip, gzip" else body)
    if encoding == "deflate":
        return zlib.compress(body)
    return body


@FUZZ
@given(content_type=CONTENT_TYPES, encoding=ENCODINGS, really_encoded=st.booleans(),
       token=st.sampled_from([TOKEN.encode(), b"", b"wrong", TOKEN.encode() + b"\xff", b"\xff\xfe",
                              "tökén".encode(), TOKEN.upper().encode()]),
       extra=st.lists(st.tuples(HEADER_NAME, HEADER_VALUE), max_size=4),
       lead_id=st.integers(min_value=0, max_value=50))
async def test_any_headers_content_type_and_encoding(
        app: Served, caplog: pytest.LogCaptureFixture, content_type: str, encoding: str | None,
        really_encoded: bool, token: bytes, extra: list[tuple[str, bytes]], lead_id: int) -> None:
    """Attack: a valid lead under any Content-Type, any Content-Encoding (the body encoded
    so, or not), any token and arbitrary extra headers."""
    body = json.dumps({"id": f"F-{lead_id}", "email": "x@example.com"}).encode()
    headers = [(b"Authorization", b"Bearer " + token),
               (b"Content-Type", content_type.encode())]
    if encoding is not None:
        headers.append((b"Content-Encoding", encoding.encode()))
        body = encoded(body, encoding) if really_encoded else body
    headers += [(name.encode(), value) for name, value in extra]
    caplog.clear()  # one app and one log for all examples: each example's own lines only
    before = (await app.counts())["leads"]
    status, content_type_back, content = await post_raw(app, body, headers)
    answer = await check_answer(app, status, content_type_back, content, caplog, before)
    if token != TOKEN.encode():
        assert status == 401, answer
    elif encoding in ("br", "zstd", "gzip, gzip", "x-made-up"):  # no decoder here: said in words
        assert status == 415, answer
