"""Attacks with header bytes and ids anyone can send to /leads and /metrics: each gets a
401 or 404 in plain words, never a 500, and changes nothing. (Bytes aiohttp's parser refuses
outright, a NUL in a header or a raw non-ASCII path, get its 400: test_faults_malformed_http.)"""

from __future__ import annotations

import json

import pytest
from web_support import AUTH, TOKEN, ServeFactory, raw_request

METRICS_TOKEN = "metrics-secret"
AUTHORIZATIONS = {
    "a raw 0xff byte": b"Bearer \xff",
    "latin-1 bytes": b"Bearer caf\xe9",
    "UTF-8 that is not the token": "Bearer tökén".encode(),
    "the token with a 0xff after it": b"Bearer " + TOKEN.encode() + b"\xff",
    "half of a UTF-8 character": b"Bearer \xe2\x82",
    "an absurdly long token": b"Bearer " + b"x" * 8000,
    "no token after Bearer": b"Bearer ",
    "another scheme": b"Basic " + TOKEN.encode(),
    "the token alone": TOKEN.encode(),
    "only a tab": b"\t",
}


def plain_words(content: bytes) -> str:
    message = json.loads(content)["error"]
    assert isinstance(message, str) and len(message) > 10
    return message


@pytest.mark.parametrize("authorization", AUTHORIZATIONS.values(), ids=AUTHORIZATIONS.keys())
async def test_garbage_authorization_on_post_leads_is_401(serve: ServeFactory, authorization: bytes) -> None:
    """Attack: POST /leads with Authorization bytes no token is made of."""
    app = await serve()
    status, _, content = await raw_request(app, "POST", b"/leads", {b"Authorization": authorization,
                                           b"Content-Type": b"application/json"}, b'{"id": "H-1"}')
    assert status == 401
    assert "token" in plain_words(content)
    assert (await app.counts())["leads"] == 0


@pytest.mark.parametrize("authorization", AUTHORIZATIONS.values(), ids=AUTHORIZATIONS.keys())
async def test_garbage_authorization_on_get_leads_is_401(serve: ServeFactory, authorization: bytes) -> None:
    """Attack: GET /leads/{id} with Authorization bytes no token is made of."""
    app = await serve()
    await app.post_lead({"id": "H-1"})
    status, _, content = await raw_request(app, "GET", b"/leads/H-1", {b"Authorization": authorization})
    assert status == 401
    assert "H-1" not in plain_words(content)


@pytest.mark.parametrize("authorization", AUTHORIZATIONS.values(), ids=AUTHORIZATIONS.keys())
async def test_garbage_authorization_on_metrics_is_401(serve: ServeFactory, authorization: bytes) -> None:
    """Attack: GET /metrics (ROTATION_METRICS_TOKEN set) with header bytes of any kind."""
    app = await serve(metrics_token=METRICS_TOKEN)
    status, fields, content = await raw_request(app, "GET", b"/metrics", {b"Authorization": authorization})
    assert status == 401
    assert "ROTATION_METRICS_TOKEN" in plain_words(content)
    assert b"rotation_" not in content
    assert fields.get("www-authenticate") == "Bearer"


async def test_a_non_ascii_intake_token_is_compared_as_its_bytes(serve: ServeFactory) -> None:
    """Attack on our own comparison: a token outside ASCII must work when sent as its
    UTF-8 bytes, and a look-alike (NFD, Latin-1) must not."""
    token = "clé-tökén-秘密"
    app = await serve(intake_token=token)
    lead = b'{"id": "U-1"}'
    for lookalike in ("cle\u0301-tökén-秘密".encode(), token.encode("utf-8")[:-1], b"cl\xe9"):
        status, _, _ = await raw_request(app, "POST", b"/leads",
                                         {b"Authorization": b"Bearer " + lookalike}, lead)
        assert status == 401
    assert (await app.counts())["leads"] == 0
    status, _, content = await raw_request(app, "POST", b"/leads",
                                           {b"Authorization": b"Bearer " + token.encode()}, lead)
    assert status == 201, content
    assert (await app.counts())["leads"] == 1


UNSTORABLE_IDS = {
    "a NUL": b"/leads/%00",
    "a NUL inside": b"/leads/L-%001",
    "a lone surrogate, encoded": b"/leads/%ED%A0%80",
    "invalid UTF-8, encoded": b"/leads/%FF%FE",
    "201 characters": b"/leads/" + b"x" * 201,
    "1000 characters, encoded": b"/leads/" + b"%C3%A9" * 1000,
    "only spaces": b"/leads/%20%20",
    "a newline": b"/leads/a%0Ab",
}


@pytest.mark.parametrize("path", UNSTORABLE_IDS.values(), ids=UNSTORABLE_IDS.keys())
async def test_ids_no_database_can_hold_are_404_on_every_backend(
        serve: ServeFactory, database_url: str, path: bytes) -> None:
    """Attack: GET /leads/{id} with ids a database cannot store or compare (NUL, lone
    surrogates, bytes that are not UTF-8, ids over the 200-character limit), on SQLite
    and on PostgreSQL."""
    app = await serve(url=database_url)
    await app.post_lead({"id": "L-1"})
    status, _, content = await raw_request(app, "GET", path, {b"Authorization": f"Bearer {TOKEN}".encode()})
    assert status == 404, content
    assert "lead" in plain_words(content).lower()
    assert (await app.counts())["leads"] == 1
    async with app.http.get(f"{app.url}/leads/L-1", headers=AUTH) as response:  # still there, still served
        assert response.status == 200
