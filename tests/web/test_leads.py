"""POST /leads and GET /leads/{id} through a real socket: answers, repeats, every error."""

from __future__ import annotations

import asyncio
from typing import Any

import aiohttp
import pytest
from sqlalchemy import text
from sqlalchemy.exc import OperationalError
from web_support import AUTH, TOKEN, Served, ServeFactory, start_app

from bot.config.settings import Settings
from bot.routing.service import RoutingService
from bot.store.db import Database, DatabaseUnavailable, unavailable
from bot.web.app import create_app
from bot.web.metrics import Metrics


async def test_new_lead_is_201_and_a_repeat_is_200_with_the_same_body(serve: ServeFactory) -> None:
    app: Served = await serve()
    status, body = await app.post_lead({"id": "L-1", "name": "Ada", "email": "ada@example.com"})
    assert status == 201
    assert body["lead_id"] == "L-1" and body["status"] == "assigned" and body["queue"] == "emea"
    assert body["rule"] == "Everyone"
    assert body["assignee"]["slack_id"] in {"U01ALICE", "U02BOB"}
    assert body["explanation"]["summary"]
    before = await app.counts()
    again_status, again = await app.post_lead({"id": "L-1", "name": "Someone else"})
    assert (again_status, again) == (200, body)
    assert await app.counts() == before == {"leads": 1, "assignments": 1, "outbox": 2}
    assert app.wake.is_set()


async def test_a_numeric_id_is_its_decimal_string(serve: ServeFactory) -> None:
    app = await serve()
    assert (await app.post_lead({"id": 42}))[0] == 201
    status, body = await app.post_lead({"id": "42"})
    assert (status, body["lead_id"]) == (200, "42")
    assert (await app.post_lead({"id": 7.0}))[1]["lead_id"] == "7"
    assert (await app.post_lead({"id": 1.5}))[1]["lead_id"] == "1.5"
    assert (await app.post_lead({"id": 1e-7}))[1]["lead_id"] == "0.0000001"


async def test_get_lead_shows_fields_assignments_and_explanations(serve: ServeFactory) -> None:
    app = await serve()
    _, routed = await app.post_lead({"id": "A/1 x", "company": "Acme", "employees": 12, "vip": True,
                                     "note": None})
    async with app.http.get(f"{app.url}/leads/A%2F1%20x", headers=AUTH) as response:
        assert response.status == 200
        lead = await response.json()
    assert lead["lead_id"] == "A/1 x" and lead["status"] == "assigned"
    assert lead["fields"] == {"id": "A/1 x", "company": "Acme", "employees": 12, "vip": True, "note": None}
    assert lead["explanation"] == routed["explanation"]
    [assignment] = lead["assignments"]
    assert assignment["assignee"] == routed["assignee"] and assignment["state"] == "offered"
    assert assignment["explanation"]["summary"]


async def test_get_lead_finds_an_id_sent_with_spaces_around_it(serve: ServeFactory) -> None:
    app = await serve()
    assert (await app.post_lead({"id": " L-sp "}))[0] == 201
    async with app.http.get(f"{app.url}/leads/%20L-sp%20", headers=AUTH) as response:
        assert response.status == 200
        assert (await response.json())["lead_id"] == "L-sp"


async def test_get_lead_needs_the_token_and_404s_an_unknown_id(serve: ServeFactory) -> None:
    app = await serve()
    async with app.http.get(f"{app.url}/leads/nope", headers=AUTH) as response:
        assert response.status == 404
        assert "nope" in (await response.json())["error"]
    async with app.http.get(f"{app.url}/leads/nope") as response:
        assert response.status == 401


LIMIT = 1024
BAD_REQUESTS: list[tuple[str, dict[str, str], bytes, int, str]] = [
    ("no token", {"Authorization": ""}, b'{"id": "x"}', 401, "Bearer"),
    ("wrong token", {"Authorization": "Bearer nope"}, b'{"id": "x"}', 401, "token"),
    ("wrong scheme", {"Authorization": f"Basic {TOKEN}"}, b'{"id": "x"}', 401, "Bearer"),
    ("malformed JSON", {}, b'{"id": "x",', 400, "JSON"),
    ("not UTF-8", {}, b'{"id": "\xff"}', 400, "JSON"),
    ("NaN", {}, b'{"id": "x", "score": NaN}', 400, "JSON"),
    ("empty body", {}, b"", 400, "JSON"),
    ("a list", {}, b'[{"id": "x"}]', 400, "object"),
    ("a string", {}, b'"x"', 400, "object"),
    ("no id", {}, b'{"name": "Ada"}', 400, "id"),
    ("null id", {}, b'{"id": null}', 400, "id"),
    ("empty id", {}, b'{"id": "  "}', 400, "id"),
    ("boolean id", {}, b'{"id": true}', 422, "`id`"),
    ("object id", {}, b'{"id": {"a": 1}}', 422, "`id`"),
    ("list id", {}, b'{"id": ["L-1"]}', 422, "`id`"),
    ("infinite id", {}, b'{"id": Infinity}', 400, "JSON"),
    ("nested object", {}, b'{"id": "x", "address": {"city": "Paris"}}', 422, "`address`"),
    ("a list field", {}, b'{"id": "x", "tags": ["a"]}', 422, "`tags`"),
    ("NUL in the id", {}, b'{"id": "L-\\u0000x"}', 422, "cannot be stored"),
    ("half a surrogate pair in the id", {}, b'{"id": "S-\\ud800"}', 422, "cannot be stored"),
    ("NUL in a field", {}, b'{"id": "x", "note": "a\\u0000b"}', 422, "`note`"),
    ("half a surrogate pair in a name", {}, b'{"id": "x", "k\\udc00": 1}', 422, "\\udc00"),
    ("overlong id", {}, b'{"id": "' + b"x" * 201 + b'"}', 422, "`id`"),
    ("over the limit", {}, b'{"id": "x", "pad": "' + b"p" * LIMIT + b'"}', 413, str(LIMIT)),
    ("a key given twice", {}, b'{"id": "X-14", "id": "X-15"}', 400, '"id" is given twice'),
    ("said to be gzip but is not", {"Content-Encoding": "gzip"}, b'{"id": "x"}', 400, "Content-Encoding"),
    ("said to be deflate but is not", {"Content-Encoding": "deflate"}, b'{"id": "x"}', 400, "deflate"),
]


@pytest.mark.parametrize(("headers", "raw", "status", "words"),
                         [case[1:] for case in BAD_REQUESTS], ids=[case[0] for case in BAD_REQUESTS])
async def test_every_rejected_request_changes_nothing(serve: ServeFactory, headers: dict[str, str],
                                                      raw: bytes, status: int, words: str) -> None:
    app = await serve(max_body_bytes=LIMIT)
    await app.post_lead({"id": "existing"})
    before = await app.counts()
    got, body = await app.post_lead(None, raw=raw, headers=headers)
    assert got == status
    assert set(body) == {"error"} and words in body["error"]
    assert await app.counts() == before


async def test_a_body_nested_too_deeply_is_400_not_a_crash(serve: ServeFactory) -> None:
    app = await serve()  # the default limit, 64 KiB: room for far more nesting than Python parses
    got, body = await app.post_lead(None, raw=b'{"id": "x", "a": ' + b"[" * 5000 + b"]" * 5000 + b"}")
    assert got == 400 and "nested too deeply" in body["error"]
    assert (await app.counts())["leads"] == 0


async def test_a_chunked_body_over_the_limit_is_413(serve: ServeFactory) -> None:
    app = await serve(max_body_bytes=LIMIT)

    async def chunks() -> Any:
        yield b'{"id": "x", "pad": "'
        for _ in range(10):
            yield b"p" * 512
        yield b'"}'

    async with app.http.post(f"{app.url}/leads", data=chunks(), headers=AUTH) as response:
        assert response.status == 413
        assert "limit" in (await response.json())["error"]
    assert (await app.counts())["leads"] == 0


async def test_intake_is_503_without_a_token_configured(serve: ServeFactory) -> None:
    """503 as the contract says, but without Retry-After and in words: retrying will not help."""
    app = await serve(intake_token=None)
    for method, path in (("POST", "/leads"), ("GET", "/leads/x")):
        async with app.http.request(method, f"{app.url}{path}", json={"id": "x"}, headers=AUTH) as response:
            assert response.status == 503 and "Retry-After" not in response.headers
            said = (await response.json())["error"]
        assert said.startswith("Lead intake is switched off on this server: ROTATION_INTAKE_TOKEN is not "
                               "set, so retrying will not help.")
        assert "restart `rotation serve` with ROTATION_INTAKE_TOKEN set" in said
    assert (await app.counts())["leads"] == 0


async def test_concurrent_leads_and_repeats_assign_each_id_once(serve: ServeFactory) -> None:
    app = await serve()
    ids = [f"C-{n}" for n in range(30)]
    results = await asyncio.gather(*(app.post_lead({"id": i}) for i in ids + ids))
    by_id: dict[str, list[tuple[int, Any]]] = {}
    for status, body in results:
        by_id.setdefault(body["lead_id"], []).append((status, body))
    for answers in by_id.values():
        assert sorted(s for s, _ in answers) == [200, 201]
        assert answers[0][1] == answers[1][1]
    assert await app.counts() == {"leads": 30, "assignments": 30, "outbox": 60}


async def test_unknown_paths_and_methods_answer_json(serve: ServeFactory) -> None:
    app = await serve()
    async with app.http.get(f"{app.url}/nowhere") as response:
        assert response.status == 404 and "error" in await response.json()
    async with app.http.put(f"{app.url}/leads", headers=AUTH) as response:
        assert response.status == 405 and "error" in await response.json()


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
async def test_intake_on_each_database(serve: ServeFactory, backend: str,
                                       request: pytest.FixtureRequest) -> None:
    url = request.getfixturevalue("postgres_url") if backend == "postgresql" else None
    app = await serve(url)
    statuses = await asyncio.gather(*(app.post_lead({"id": f"P-{n % 10}"}) for n in range(40)))
    assert sorted(s for s, _ in statuses).count(201) == 10
    assert (await app.post_lead({"id": "P-x", "tags": [1]}))[0] == 422
    assert (await app.post_lead(None, raw=b"{"))[0] == 400
    assert await app.counts() == {"leads": 10, "assignments": 10, "outbox": 20}
    async with app.http.get(f"{app.url}/leads/P-3", headers=AUTH) as response:
        assert response.status == 200 and len((await response.json())["assignments"]) == 1


async def test_a_client_that_hangs_up_does_not_break_the_server(serve: ServeFactory) -> None:
    app = await serve()
    with pytest.raises(asyncio.TimeoutError):
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=0.001)) as quick:
            await quick.post(f"{app.url}/leads", json={"id": "gone"}, headers=AUTH)
    assert (await app.post_lead({"id": "after"}))[0] == 201


async def test_with_the_database_unreachable_intake_says_503_try_again(unused_tcp_port: int) -> None:
    """A CRM retries a 503 (with Retry-After); a 500 says the request itself is at fault."""
    url = f"postgresql+asyncpg://rotation@127.0.0.1:{unused_tcp_port}/nowhere"  # nobody listens
    service = RoutingService(Database(url))
    metrics = Metrics()
    runner, base = await start_app(create_app(service, Settings(intake_token=TOKEN, database_url=url),
                                              metrics=metrics))
    try:
        async with aiohttp.ClientSession() as http:
            async with http.post(f"{base}/leads", json={"id": "L-1"}, headers=AUTH) as response:
                assert response.status == 503 and response.headers["Retry-After"] == "5"
                assert "try again" in (await response.json())["error"]
            async with http.get(f"{base}/leads/L-1", headers=AUTH) as response:
                assert response.status == 503
            async with http.get(f"{base}/metrics") as response:
                assert 'rotation_intake_requests_total{code="503"} 1.0' in await response.text()
    finally:
        await runner.cleanup()
        await service.db.dispose()


async def test_a_statement_that_is_wrong_is_a_bug_not_an_unavailable_database(sqlite_url: str) -> None:
    """Only a database that is away makes a 503 (try again); a wrong statement stays a 500."""
    db = Database(sqlite_url)
    try:
        with pytest.raises(OperationalError) as wrong:
            await db.run(lambda c: c.execute(text("SELECT * FROM no_such_table")))
        assert not isinstance(wrong.value, DatabaseUnavailable) and not unavailable(wrong.value)
    finally:
        await db.dispose()
