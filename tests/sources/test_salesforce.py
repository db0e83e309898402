"""Salesforce Outbound Messages: the org is checked on the first 15 characters, the Ack comes
only once every notification is committed, and the XML parser expands nothing."""

from __future__ import annotations

from sources_support import SOURCES, Sources, apply_sources, as_json, fixture
from sqlalchemy import select

from bot.store.models import Lead

XML = "text/xml; charset=utf-8"


async def test_the_ack_comes_after_every_lead_is_committed(sources_app: Sources) -> None:
    body = fixture("salesforce.xml")
    status, headers, answer = await sources_app.post("salesforce", body, content_type=XML)
    assert status == 200
    assert headers["Content-Type"] == "text/xml; charset=utf-8"
    assert answer.endswith(b"<Ack>true</Ack></notificationsResponse></soapenv:Body></soapenv:Envelope>")
    # read on another connection as soon as the answer arrives: both are there already
    leads = await sources_app.rows(select(Lead.id, Lead.fields, Lead.status).order_by(Lead.id))
    assert [lead.id for lead in leads] == ["00Q000000000001AAA", "00Q000000000002AAA"]
    assert all(lead.status == "assigned" for lead in leads)
    first = leads[0].fields
    assert first["Email"] == "gil@initrode.com" and first["Company"] == "Initrode"
    assert first["NumberOfEmployees"] == "1500" and first["Phone"] is None
    _, record = await sources_app.lead("00Q000000000002AAA")
    assert record["queue"] == "americas"  # Country US: the rules read Salesforce's own field names


async def test_a_message_from_another_org_is_401_and_stores_nothing(sources_app: Sources) -> None:
    other = fixture("salesforce.xml").replace(b"00D000000000001EAA", b"00D000000000009EAA")
    status, _, answer = await sources_app.post("salesforce", other, content_type=XML)
    assert status == 401
    assert "another Salesforce org" in as_json(answer)["error"]
    same_org_other_case = fixture("salesforce.xml").replace(b"00D000000000001EAA", b"00d000000000001EAA")
    status, _, _ = await sources_app.post("salesforce", same_org_other_case, content_type=XML)
    assert status == 401  # ids are case-sensitive
    assert (await sources_app.counts())["leads"] == 0


async def test_a_15_character_org_id_matches_the_18_character_one(sources_app: Sources) -> None:
    sources = [s if s["name"] != "salesforce" else {**s, "organization_id": "00D000000000001"}
               for s in SOURCES]
    await apply_sources(sources_app.service, sources)
    status, _, answer = await sources_app.post("salesforce", fixture("salesforce.xml"), content_type=XML)
    assert status == 200 and b"<Ack>true</Ack>" in answer


async def test_an_entity_expansion_bomb_is_refused_unread(sources_app: Sources) -> None:
    bomb = (b'<?xml version="1.0"?>\n<!DOCTYPE lolz [<!ENTITY lol "lol">'
            b'<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">'
            b'<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">'
            b'<!ENTITY lol9 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">]>'
            + fixture("salesforce.xml").split(b"?>", 1)[1].replace(b"<sf:Company>Initrode",
                                                                   b"<sf:Company>&lol9;"))
    status, _, answer = await sources_app.post("salesforce", bomb, content_type=XML)
    assert status == 400
    assert "DTD or entities" in as_json(answer)["error"]
    external = (b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>'
                b"<x>&e;</x>")
    status, _, _ = await sources_app.post("salesforce", external, content_type=XML)
    assert status == 400
    counts = await sources_app.counts()
    assert (counts["leads"], counts["parked"]) == (0, 0)


async def test_what_is_not_an_outbound_message_is_a_400(sources_app: Sources) -> None:
    for body in (b"not xml at all", b"<a><b/></a>"):
        status, _, answer = await sources_app.post("salesforce", body, content_type=XML)
        assert status == 400, body
        assert "error" in as_json(answer)
    assert (await sources_app.counts())["leads"] == 0


async def test_a_message_nested_past_any_record_is_acked_not_a_500(sources_app: Sources) -> None:
    """Found from outside: 900 nested elements in a field overflowed the stack (a 500)."""
    deep = b"<a>" * 900 + b"x" + b"</a>" * 900
    body = fixture("salesforce.xml").replace(b"<sf:Company>Initrode</sf:Company>",
                                             b"<sf:Company>" + deep + b"</sf:Company>")
    assert body != fixture("salesforce.xml")
    status, _, answer = await sources_app.post("salesforce", body, content_type=XML)
    assert status == 200 and b"<Ack>true</Ack>" in answer
