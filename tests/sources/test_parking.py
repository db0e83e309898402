"""Authentic requests that cannot be made into leads: answered 2xx, parked with the reason,
told to the managers' channel at most once an hour per source, and routed by a replay once
the mapping is fixed."""

from __future__ import annotations

import asyncio
import json

from sources_signing import typeform
from sources_support import SECRETS, SOURCES, TOKEN, Sources, apply_sources, as_json, fixture
from sqlalchemy import select
from yarl import URL

from bot.sources.intake import SourceIntake
from bot.sources.parked import ParkedRequest
from bot.store.models import OutboxMessage

AUTH = {"Authorization": f"Bearer {TOKEN}"}
PARTNER = {"Authorization": f"Bearer {SECRETS['PARTNER_TOKEN']}"}


async def notes(app: Sources) -> list[dict[str, object]]:
    rows = await app.rows(select(OutboxMessage.key, OutboxMessage.payload)
                          .where(OutboxMessage.key.startswith("source-parked:")).order_by(OutboxMessage.id))
    return [row.payload for row in rows]


async def test_an_unmappable_payload_is_parked_then_replayed_after_the_mapping_is_fixed(
        sources_app: Sources) -> None:
    body = json.dumps({"data": {"ref": "X-9", "who": {"mail": "pat@acme.com"}}, "country": "DE"}).encode()
    status, _, answer = await sources_app.post("partner-feed", body, PARTNER)
    assert status == 202
    parked = as_json(answer)["parked"]
    assert len(parked) == 1 and "no `id`" in parked[0]["reason"] and "fields: {id:" in parked[0]["reason"]
    assert (await sources_app.counts())["leads"] == 0

    still = await SourceIntake(sources_app.service).replay(None)  # nothing fixed yet: still parked
    assert [r.done for r in still] == [False]

    mapping = {"id": "data.ref", "email": "data.who.mail"}
    fixed = [s if s["name"] != "partner-feed" else {**s, "fields": mapping} for s in SOURCES]
    await apply_sources(sources_app.service, fixed)
    results = await SourceIntake(sources_app.service).replay([parked[0]["parked_id"]])
    assert [(r.done, r.lead_ids) for r in results] == [(True, ["X-9"])]
    _, record = await sources_app.lead("X-9")
    assert record["source"] == "partner-feed" and record["fields"]["email"] == "pat@acme.com"
    assert record["fields"]["country"] == "DE"
    rows = await sources_app.rows(select(ParkedRequest.replayed_at, ParkedRequest.lead_id))
    assert rows[0].replayed_at is not None and rows[0].lead_id == "X-9"
    again = await SourceIntake(sources_app.service).replay(None)
    assert again == []  # nothing waits any more


async def test_a_signed_body_that_is_not_json_is_parked_whole(sources_app: Sources) -> None:
    body = b"payload=not-json"
    status, _, answer = await sources_app.post("typeform", body, typeform(SECRETS["TYPEFORM_SECRET"], body))
    assert status == 202
    assert "not JSON" in as_json(answer)["parked"][0]["reason"]
    rows = await sources_app.rows(select(ParkedRequest.split, ParkedRequest.body))
    assert [(r.split, r.body) for r in rows] == [(False, body)]


async def test_a_path_that_finds_an_object_parks_with_the_field_named(sources_app: Sources) -> None:
    sources = [*SOURCES, {"name": "odd", "kind": "json", "fields": {"company": "org"}}]
    await apply_sources(sources_app.service, sources)
    body = json.dumps({"id": "O-1", "org": {"n": 1}}).encode()
    status, _, answer = await sources_app.post("odd", body, AUTH)
    assert status == 202
    assert "the path for `company` finds an object" in as_json(answer)["parked"][0]["reason"]


async def test_managers_hear_of_parked_requests_at_most_once_an_hour(sources_app: Sources) -> None:
    for number in range(3):
        await sources_app.post("feed", json.dumps({"name": f"no id {number}"}).encode(), AUTH)
    told = await notes(sources_app)
    assert len(told) == 1
    assert told[0]["event"] == "managers_note" and told[0]["channel"] == "C0MANAGERS"
    text = str(told[0]["text"])
    assert "feed source parked" in text and "rotation sources parked feed" in text
    sources_app.clock.advance(minutes=59)
    await sources_app.post("feed", json.dumps({"name": "no id later"}).encode(), AUTH)
    assert len(await notes(sources_app)) == 1
    await sources_app.post("partner-feed", json.dumps({"x": 1}).encode(), PARTNER)  # another source: its own
    assert len(await notes(sources_app)) == 2
    sources_app.clock.advance(minutes=2)
    await sources_app.post("feed", json.dumps({"name": "no id an hour on"}).encode(), AUTH)
    assert len(await notes(sources_app)) == 3
    assert (await sources_app.counts())["parked"] == 6


async def test_a_typeform_partial_response_is_left_alone(sources_app: Sources) -> None:
    body = fixture("typeform.json").replace(b'"form_response",', b'"form_response_partial",', 1)
    status, _, answer = await sources_app.post("typeform", body, typeform(SECRETS["TYPEFORM_SECRET"], body))
    assert status == 200
    assert as_json(answer)["ignored"] == ["a Typeform form_response_partial event is not a submitted form"]
    counts = await sources_app.counts()
    assert (counts["leads"], counts["parked"]) == (0, 0)


async def test_raw_bytes_in_a_parked_requests_content_type_are_stored_not_a_500(
        sources_app: Sources) -> None:
    """Found from outside: a header byte that is not UTF-8 made parking fail with a 500."""
    url = URL(sources_app.url)
    reader, writer = await asyncio.open_connection(url.host, url.port)
    body = b'"not an object"'
    writer.write(b"POST /sources/feed HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + TOKEN.encode()
                 + b"\r\nContent-Type: application/json; x=\xe9\r\nContent-Length: "
                 + str(len(body)).encode() + b"\r\nConnection: close\r\n\r\n" + body)
    await writer.drain()
    answer = await reader.read()
    writer.close()
    assert answer.startswith(b"HTTP/1.1 202"), answer[:200]
    [row] = await sources_app.rows(select(ParkedRequest.content_type))
    assert row.content_type == "application/json; x=\\udce9"  # kept, readably


def test_a_parked_preview_shows_a_lone_surrogate_instead_of_crashing() -> None:
    from types import SimpleNamespace

    from bot.sources.cli import preview

    row = SimpleNamespace(body=json.dumps({"form_response": {"token": "\ud800"}}).encode(), split=True)
    assert "\\ud800" in preview(row)
