"""Attacks on how /leads reads a request: field names that differ only in case, ids made of
invisible characters, a header given twice, methods /leads does not take, encodings it does
not read, and numbers too long to read. Each is answered in plain words as JSON, says
nothing of Python's internals, and stores nothing (on SQLite and PostgreSQL where the
database is touched). Requests are written byte for byte, so duplicate headers reach the app.
"""

from __future__ import annotations

import gzip
import json
from urllib.parse import quote

import pytest
from web_support import AUTH, TOKEN, Served, ServeFactory, raw_request

GOOD = (b"Authorization", b"Bearer " + TOKEN.encode())
JSON_TYPE = (b"Content-Type", b"application/json")
METRICS_TOKEN = "metrics-secret"


def words(fields: dict[str, str], content: bytes) -> str:
    """The error of a JSON `{"error": ...}` answer, which must read as words."""
    assert fields["content-type"].startswith("application/json"), (fields, content[:200])
    answer = json.loads(content)
    assert set(answer) == {"error"} and len(answer["error"]) > 10, answer
    return answer["error"]


async def post(app: Served, body: bytes, *headers: tuple[bytes, bytes]) -> tuple[int, dict[str, str], bytes]:
    return await raw_request(app, "POST", "/leads", list(headers or (GOOD, JSON_TYPE)), body)


@pytest.fixture
async def app(serve: ServeFactory, database_url: str) -> Served:
    return await serve(url=database_url)


COLLIDING = {
    "id and ID": (b'{"ID": "A", "id": "B"}', "`ID` and `id` name the same field"),
    "Email and email": (b'{"id": "C-1", "Email": "x@a.com", "email": "y@b.com"}',
                        "`Email` and `email` name the same field"),
    "three spellings": (b'{"id": "C-2", "country": "DE", "COUNTRY": "XX", "Country": "FR"}',
                        "`country` and `COUNTRY` name the same field"),
}


@pytest.mark.parametrize("body, said", COLLIDING.values(), ids=COLLIDING.keys())
async def test_field_names_that_differ_only_in_case(app: Served, body: bytes, said: str) -> None:
    """Attack: two keys naming one field in different case, so rules, messages and the
    webhook could each read a different one of the two values."""
    status, fields, content = await post(app, body)
    assert status == 400
    assert said in words(fields, content)
    assert await app.counts() == {"leads": 0, "assignments": 0, "outbox": 0}


@pytest.mark.parametrize("key", ["ID", "Id", "iD"])
async def test_id_named_in_another_case_is_the_id(app: Served, key: str) -> None:
    """Attack (of a kind): `{"ID": "J11"}` was refused as having no id, though `rotation
    import` reads an `ID` column as the id. It is the lead's id, once."""
    status, _, content = await post(app, json.dumps({key: " J11 "}).encode())
    assert status == 201, content
    assert json.loads(content)["lead_id"] == "J11"
    again, _, content = await post(app, b'{"id": "J11"}')
    assert again == 200, content
    async with app.http.get(f"{app.url}/leads/J11", headers=AUTH) as response:
        assert response.status == 200
        assert (await response.json())["fields"] == {key: " J11 "}
    assert (await app.counts())["leads"] == 1


INVISIBLE_IDS = {
    "a zero-width space": "\u200b",
    "a byte order mark": "\ufeff",
    "a line separator": "\u2028",
    "a paragraph separator": "\u2029",
    "no-break and ideographic spaces": "\u00a0\u3000",
    "word joiner and soft hyphen": "\u2060\u00ad",
    "zero-width space among spaces": " \u200b\t\u200b ",
}


@pytest.mark.parametrize("lead_id", INVISIBLE_IDS.values(), ids=INVISIBLE_IDS.keys())
async def test_id_of_only_invisible_characters_is_no_id(app: Served, lead_id: str) -> None:
    """Attack: an id that shows as nothing, so every such lead would be one lead nobody can
    find by looking at it."""
    status, fields, content = await post(app, json.dumps({"id": lead_id}).encode())
    assert status == 400
    assert "no `id`" in words(fields, content)
    assert await app.counts() == {"leads": 0, "assignments": 0, "outbox": 0}


async def test_invisible_characters_around_an_id_are_not_part_of_it(app: Served) -> None:
    """Attack: `\\u200bL-1\\ufeff` and `L-1` look the same: they are one lead, found as either."""
    status, _, content = await post(app, json.dumps({"id": "\u200bL-1\ufeff\u2028"}).encode())
    assert status == 201, content
    assert json.loads(content)["lead_id"] == "L-1"
    again, _, _ = await post(app, b'{"id": "L-1"}')
    assert again == 200
    async with app.http.get(f"{app.url}/leads/{quote(chr(0x200B) + 'L-1')}", headers=AUTH) as response:
        assert response.status == 200
        assert (await response.json())["lead_id"] == "L-1"
    assert (await app.counts())["leads"] == 1


TWICE = {
    "good then bad token": ("Authorization", [GOOD, (b"Authorization", b"Bearer wrong"), JSON_TYPE]),
    "bad then good token": ("Authorization", [(b"Authorization", b"Bearer wrong"), GOOD, JSON_TYPE]),
    "the good token twice": ("Authorization", [GOOD, GOOD, JSON_TYPE]),
    "two Content-Encodings": ("Content-Encoding", [GOOD, JSON_TYPE, (b"Content-Encoding", b"identity"),
                                                   (b"Content-Encoding", b"gzip")]),
}


@pytest.mark.parametrize("name, headers", TWICE.values(), ids=TWICE.keys())
async def test_a_header_given_twice_on_post_leads(app: Served, name: str,
                                                  headers: list[tuple[bytes, bytes]]) -> None:
    """Attack: a header twice, so that a proxy and the app each believe a different one."""
    status, fields, content = await post(app, b'{"id": "T-1"}', *headers)
    assert status == 400
    assert f"more than one `{name}` header" in words(fields, content)
    assert await app.counts() == {"leads": 0, "assignments": 0, "outbox": 0}


async def test_two_content_types_on_post_leads(app: Served) -> None:
    """Attack: two Content-Types. aiohttp's parser refuses a duplicate of a header RFC 9110
    allows once, before the app sees it (its 400 is plain text naming the header, see
    test_faults_malformed_http); /leads would refuse it too, in JSON, were the parser lax."""
    status, _, content = await post(app, b'{"id": "T-1"}', GOOD, JSON_TYPE, (b"Content-Type", b"text/plain"))
    assert status == 400
    assert b"Content-Type" in content and b"text/plain" not in content
    assert await app.counts() == {"leads": 0, "assignments": 0, "outbox": 0}


async def test_two_authorizations_on_get_leads_and_metrics(serve: ServeFactory) -> None:
    """Attack: the right token first and a wrong one after it, on the reading endpoints
    (the first won: GET /leads/{id} showed the lead)."""
    app = await serve(metrics_token=METRICS_TOKEN)
    assert (await post(app, b'{"id": "T-2"}'))[0] == 201
    twice = [GOOD, (b"Authorization", b"Bearer x")]
    status, fields, content = await raw_request(app, "GET", "/leads/T-2", twice)
    assert status == 400
    assert "T-2" not in words(fields, content)
    metrics_auth = (b"Authorization", f"Bearer {METRICS_TOKEN}".encode())
    twice = [metrics_auth, (b"Authorization", b"x")]
    status, fields, content = await raw_request(app, "GET", "/metrics", twice)
    assert status == 400
    assert "more than one `Authorization`" in words(fields, content)
    assert b"rotation_" not in content


WRONG_METHODS = {"PUT /leads": ("PUT", "/leads", "POST"),
                 "OPTIONS /leads": ("OPTIONS", "/leads", "POST"),
                 "DELETE /leads/x": ("DELETE", "/leads/x", "GET"),
                 "POST /leads/x": ("POST", "/leads/x", "GET")}


@pytest.mark.parametrize("method, path, allowed", WRONG_METHODS.values(), ids=WRONG_METHODS.keys())
async def test_a_method_the_address_does_not_take_says_which_it_does(
        app: Served, method: str, path: str, allowed: str) -> None:
    """Attack: PUT, OPTIONS, DELETE where they mean nothing: 405 with its `Allow` header (it
    was dropped by the JSON error answer), and nothing stored or deleted."""
    assert (await post(app, b'{"id": "x"}'))[0] == 201
    status, fields, content = await raw_request(app, method, path, [GOOD, JSON_TYPE], b'{"id": "M-1"}')
    assert status == 405
    assert allowed in fields["allow"].replace(" ", "").split(",")
    assert allowed in words(fields, content)
    assert (await app.counts())["leads"] == 1


@pytest.mark.parametrize("path", ["/leads", "/leads/x"])
async def test_a_refused_token_names_the_scheme(app: Served, path: str) -> None:
    """Attack: no token at all; the 401 says, as /metrics does, which scheme to answer with."""
    status, fields, content = await raw_request(app, "POST" if path == "/leads" else "GET", path, [JSON_TYPE],
                                         b'{"id": "W-1"}')
    assert status == 401
    assert fields["www-authenticate"] == "Bearer"
    assert "token" in words(fields, content)
    assert (await app.counts())["leads"] == 0


UNREAD_CODINGS = {"br": "br", "zstd": "zstd", "made up": "x-made-up", "a list": "gzip, gzip",
                  "compress": "compress"}


@pytest.mark.parametrize("coding", UNREAD_CODINGS.values(), ids=UNREAD_CODINGS.keys())
async def test_an_encoding_the_server_does_not_read(app: Served, coding: str) -> None:
    """Attack: a Content-Encoding with no decoder here: the answer told the client to install
    `Brotli` (a Python package), and an unknown coding was read as if none were named."""
    status, fields, content = await post(app, b'{"id": "E-1"}', GOOD, JSON_TYPE,
                                         (b"Content-Encoding", coding.encode()))
    assert status == 415
    said = words(fields, content)
    assert said.startswith(f"{coding} is not an encoding this server reads; send gzip, deflate or identity")
    assert "install" not in said and "Brotli" not in said
    assert (await app.counts())["leads"] == 0


async def test_an_encoding_name_of_garbage_is_not_echoed(app: Served) -> None:
    """Attack: a Content-Encoding of latin-1 bytes and a kilobyte, to be quoted back."""
    status, fields, content = await post(app, b'{"id": "E-2"}', GOOD, JSON_TYPE,
                                         (b"Content-Encoding", b"caf\xe9 " + b"z" * 1000))
    assert status == 415
    assert "zzzz" not in words(fields, content)
    assert (await app.counts())["leads"] == 0


async def test_gzip_and_deflate_are_still_read(app: Served) -> None:
    """Attack (control): the encodings the server does read, in any case, are leads."""
    import zlib

    for number, (coding, data) in enumerate([("gzip", gzip.compress(b'{"id": "G-1"}')),
                                             ("GZIP", gzip.compress(b'{"id": "G-2"}')),
                                             ("deflate", zlib.compress(b'{"id": "G-3"}')),
                                             ("identity", b'{"id": "G-4"}')], start=1):
        status, _, content = await post(app, data, GOOD, JSON_TYPE, (b"Content-Encoding", coding.encode()))
        assert status == 201, content
        assert json.loads(content)["lead_id"] == f"G-{number}"
    assert (await app.counts())["leads"] == 4


async def test_a_gzip_bomb_is_over_the_limit(serve: ServeFactory) -> None:
    """Attack: 10 KB of gzip that inflates to 10 MB, past ROTATION_MAX_BODY_BYTES."""
    app = await serve(max_body_bytes=65536)
    bomb = gzip.compress(b'{"id": "B-1", "x": "' + b"a" * 10_000_000 + b'"}')
    status, fields, content = await post(app, bomb, GOOD, JSON_TYPE, (b"Content-Encoding", b"gzip"))
    assert status == 413
    assert "65536 bytes" in words(fields, content)
    assert (await app.counts())["leads"] == 0


@pytest.mark.parametrize("number", ["1" * 4301, "-" + "9" * 5000])
async def test_a_number_of_over_4300_digits(app: Served, number: str) -> None:
    """Attack: an integer too long for Python to read as one: the answer told the client to
    call `sys.set_int_max_str_digits()`."""
    status, fields, content = await post(app, b'{"id": "N-1", "employees": ' + number.encode() + b"}")
    assert status == 400
    said = words(fields, content)
    assert "a number of over 4300 digits" in said
    assert "sys" not in said and "int_max" not in said
    assert (await app.counts())["leads"] == 0
