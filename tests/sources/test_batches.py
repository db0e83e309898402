"""Batches (HubSpot's event lists, Salesforce's notifications, JSON lists) with one bad item:
the rest are routed, the bad one parked with its reason; deliveries repeated by the sender
change nothing."""

from __future__ import annotations

import json

from sources_signing import hubspot
from sources_support import NOW, SECRETS, TOKEN, Sources, as_json, fixture
from sqlalchemy import select

from bot.sources.parked import ParkedRequest
from bot.store.models import Lead

AUTH = {"Authorization": f"Bearer {TOKEN}"}


def hubspot_headers(app: Sources, body: bytes) -> dict[str, str]:
    return hubspot(SECRETS["HUBSPOT_SECRET"], "POST", f"{app.url}/sources/hubspot", body,
                   int(NOW.timestamp() * 1000))


async def test_hubspot_events_route_each_creation_and_leave_other_events(sources_app: Sources) -> None:
    body = fixture("hubspot.json")
    status, _, answer = await sources_app.post("hubspot", body, hubspot_headers(sources_app, body))
    assert status == 200
    summary = as_json(answer)
    assert [lead["lead_id"] for lead in summary["leads"]] == ["5101", "5102"]
    assert summary["parked"] == []
    assert summary["ignored"] == ["a HubSpot contact.propertyChange event is not a new record"]
    _, record = await sources_app.lead("5102")
    assert record["fields"]["subscriptionType"] == "contact.creation"
    assert record["fields"]["portalId"] == 62515
    assert record["source"] == "hubspot"


async def test_a_batch_with_one_bad_item_routes_the_rest_and_parks_it(sources_app: Sources) -> None:
    items = [{"id": "B-1", "country": "DE"}, {"name": "no id here"}, {"id": "B-3", "country": "US"}]
    status, _, answer = await sources_app.post("feed", json.dumps(items).encode(), AUTH)
    assert status == 200
    summary = as_json(answer)
    assert [lead["lead_id"] for lead in summary["leads"]] == ["B-1", "B-3"]
    assert len(summary["parked"]) == 1
    assert summary["parked"][0]["reason"].startswith("item 2 of 3: no `id`")
    rows = await sources_app.rows(select(ParkedRequest.source, ParkedRequest.reason, ParkedRequest.body))
    assert [(r.source, json.loads(r.body)) for r in rows] == [("feed", {"name": "no id here"})]
    assert await sources_app.metric("feed", "parked") == 1
    assert await sources_app.metric("feed", "routed") == 2


async def test_a_salesforce_notification_without_an_id_is_parked_and_the_message_acked(
        sources_app: Sources) -> None:
    body = fixture("salesforce.xml").replace(b"<sf:Id>00Q000000000002AAA</sf:Id>", b"")
    status, headers, answer = await sources_app.post("salesforce", body, content_type="text/xml")
    assert status == 200
    assert headers["Content-Type"].startswith("text/xml")
    assert b"<Ack>true</Ack>" in answer
    leads = await sources_app.rows(select(Lead.id, Lead.source))
    assert [(lead.id, lead.source) for lead in leads] == [("00Q000000000001AAA", "salesforce")]
    parked = await sources_app.rows(select(ParkedRequest.reason))
    assert len(parked) == 1 and "item 2 of 2: no `id`" in parked[0].reason


async def test_repeated_deliveries_change_nothing(sources_app: Sources) -> None:
    body = fixture("salesforce.xml")
    for _ in range(3):
        status, _, answer = await sources_app.post("salesforce", body, content_type="text/xml")
        assert status == 200 and b"<Ack>true</Ack>" in answer
    assert (await sources_app.counts())["leads"] == 2
    assert (await sources_app.counts())["assignments"] == 2
    hubspot_body = fixture("hubspot.json")
    for _ in range(2):
        await sources_app.post("hubspot", hubspot_body, hubspot_headers(sources_app, hubspot_body))
    counts = await sources_app.counts()
    assert counts["leads"] == 4 and counts["assignments"] == 4
    unmappable = json.dumps({"name": "no id"}).encode()
    for _ in range(2):
        status, _, _ = await sources_app.post("feed", unmappable, AUTH)
        assert status == 202
    assert (await sources_app.counts())["parked"] == 1
    first, _, again = await sources_app.post("feed", json.dumps({"id": "R-1"}).encode(), AUTH)
    second, _, repeat = await sources_app.post("feed", json.dumps({"id": "R-1"}).encode(), AUTH)
    assert (first, second) == (201, 200)
    assert as_json(again) == as_json(repeat)


async def test_a_request_of_over_1000_items_is_refused_whole(sources_app: Sources) -> None:
    items = [{"id": f"X-{n}"} for n in range(1001)]
    status, _, answer = await sources_app.post("feed", json.dumps(items).encode(), AUTH)
    assert status == 413
    assert "smaller batches" in as_json(answer)["error"]
    assert (await sources_app.counts())["leads"] == 0
