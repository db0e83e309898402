"""Every kind with its vendor-shaped fixture, signed as the vendor signs it: the lead is routed
and stored with its source's name; a wrong or missing signature is a 401 that stores nothing."""

from __future__ import annotations

import json
from typing import Any

import pytest
import sources_signing as sign
from sources_support import NOW, SECRETS, TOKEN, Sources, as_json, fixture

from bot.sources.registry import KIND_BY_NAME
from bot.sources.signed_kind import SignedKind

UNIX = int(NOW.timestamp())
MILLIS = UNIX * 1000


def signed(kind: str, body: bytes, app: Sources, name: str | None = None,
           secret: str | None = None) -> dict[str, str]:
    """The headers the vendor would send with `body` (signed with `secret` when given)."""
    path = f"/sources/{name or kind}"
    if kind == "typeform":
        return sign.typeform(secret or SECRETS["TYPEFORM_SECRET"], body)
    if kind == "tally":
        return sign.tally(secret or SECRETS["TALLY_SECRET"], body)
    if kind == "calendly":
        return sign.calendly(secret or SECRETS["CALENDLY_KEY"], body, UNIX)
    if kind == "webflow":
        return sign.webflow(secret or SECRETS["WEBFLOW_SECRET"], body, MILLIS)
    if kind == "hubspot":
        return sign.hubspot(secret or SECRETS["HUBSPOT_SECRET"], "POST", app.url + path, body, MILLIS)
    if kind == "pipedrive":
        user, _, password = (secret or SECRETS["PIPEDRIVE_AUTH"]).partition(":")
        return sign.basic(user, password)
    if kind == "json":
        return {"Authorization": f"Bearer {secret or TOKEN}"}
    return {}


CASES: list[tuple[str, str, str, dict[str, Any]]] = [
    # source, fixture, lead id, fields the default mapping must give
    ("typeform", "typeform.json", "a3a12ec67a1365927098a606107fac15",
     {"name": "Ann Lee", "work_email": "ann@globex.com", "email": "ann@globex.com", "company": "Globex",
      "country": "DE", "employees": 40, "products": "Routing, Reports", "newsletter": True,
      "utm_source": "newsletter"}),
    ("tally", "tally.json", "2wgx4n",
     {"name": "Bo Chen", "Work email": "bo@initech.com", "email": "bo@initech.com", "country": "GB",
      "employees": 1200, "utm_campaign": "winter", "formName": "Book a demo"}),
    ("calendly", "calendly.json",
     "https://api.calendly.com/scheduled_events/GBGBDCAADAEDCRZ2/invitees/AAAAAAAAAAAAAAAA",
     {"name": "Cy Park", "email": "cy@umbrella.com", "company": "Umbrella", "country": "FR",
      "event_name": "30 Minute Demo", "utm_source": "google", "timezone": "Europe/Paris"}),
    ("webflow", "webflow.json", "6321ca84df3949bfc6752327",
     {"name": "Dee Moss", "email": "dee@hooli.com", "company": "Hooli", "country": "DE",
      "Phone Number": 15550000000, "form": "Contact Us"}),
    ("pipedrive", "pipedrive.json", "4207",
     {"name": "Eve Ortiz", "email": "eve@vandelay.com", "phone": "+44 20 7946 0000", "org_id": 77,
      "pipedrive_object": "person"}),
    ("hubspot", "hubspot_workflow.json", "5103",
     {"email": "fay@stark.com", "firstname": "Fay", "company": "Stark", "country": "US"}),
    ("partner-feed", "json.json", "PF-1001",
     {"name": "Ida Ng", "email": "ida@massive.com", "company": "Massive Dynamic", "country": "DE",
      "partner": "acme-referrals", "campaign": "winter"}),
]
KIND = {"partner-feed": "json"}
WRONG_SIGNATURE = ["typeform", "tally", "calendly", "webflow", "hubspot", "pipedrive", "partner-feed"]


@pytest.mark.parametrize(("source", "name", "lead_id", "expected"), CASES, ids=[c[0] for c in CASES])
async def test_each_kind_routes_its_vendors_payload(sources_app: Sources, source: str, name: str,
                                                    lead_id: str, expected: dict[str, Any]) -> None:
    body = fixture(name)
    kind = KIND.get(source, source)
    secret = SECRETS["PARTNER_TOKEN"] if source == "partner-feed" else None
    status, _, answer = await sources_app.post(source, body, signed(kind, body, sources_app, source, secret))
    assert status == 201, answer
    assert as_json(answer)["lead_id"] == lead_id
    assert as_json(answer)["status"] == "assigned"
    found, record = await sources_app.lead(lead_id)
    assert found == 200
    assert record["source"] == source
    for field, value in expected.items():
        assert record["fields"][field] == value, field
    assert await sources_app.metric(source, "routed") == 1


@pytest.mark.parametrize("source", WRONG_SIGNATURE)
async def test_a_wrong_signature_is_401_and_stores_nothing(sqlite_sources_app: Sources, source: str) -> None:
    app = sqlite_sources_app
    name = dict((c[0], c[1]) for c in CASES)[source]
    body = fixture(name)
    kind = KIND.get(source, source)
    wrong = "rotation:wrong" if kind == "pipedrive" else "not-the-secret"
    status, _, answer = await app.post(source, body, signed(kind, body, app, source, wrong))
    assert status == 401, answer
    assert "error" in as_json(answer)
    unsigned, _, _ = await app.post(source, body)
    assert unsigned == 401
    refusals = 2
    if isinstance(KIND_BY_NAME[kind], SignedKind):  # basic auth and bearer tokens sign no body
        assert kind not in ("pipedrive", "json")
        tampered = body.replace(b"e", b"E", 1)
        status, _, _ = await app.post(source, tampered, signed(kind, body, app, source))
        assert status == 401
        refusals += 1
    assert (await app.counts())["leads"] == 0
    assert (await app.counts())["parked"] == 0
    assert await app.metric(source, "refused") == refusals


@pytest.mark.parametrize("kind", ["calendly", "webflow", "hubspot"])
async def test_a_signature_from_over_five_minutes_ago_is_refused(sqlite_sources_app: Sources,
                                                                 kind: str) -> None:
    app = sqlite_sources_app
    name = {"calendly": "calendly.json", "webflow": "webflow.json", "hubspot": "hubspot_workflow.json"}[kind]
    body = fixture(name)
    old = UNIX - 6 * 60
    headers = {
        "calendly": lambda: sign.calendly(SECRETS["CALENDLY_KEY"], body, old),
        "webflow": lambda: sign.webflow(SECRETS["WEBFLOW_SECRET"], body, old * 1000),
        "hubspot": lambda: sign.hubspot(SECRETS["HUBSPOT_SECRET"], "POST",
                                        f"{app.url}/sources/hubspot", body, old * 1000),
    }[kind]()
    status, _, answer = await app.post(kind, body, headers)
    assert status == 401
    assert "five minutes" in as_json(answer)["error"]
    assert (await app.counts())["leads"] == 0


async def test_hubspot_signs_the_address_it_called_behind_a_proxy(sqlite_sources_app: Sources) -> None:
    app = sqlite_sources_app
    body = fixture("hubspot_workflow.json")
    public = "https://leads.example.com/sources/hubspot?portal=62515"
    headers = sign.hubspot(SECRETS["HUBSPOT_SECRET"], "POST", public, body, MILLIS)
    headers |= {"X-Forwarded-Proto": "https", "X-Forwarded-Host": "leads.example.com"}
    async with app.http.post(f"{app.url}/sources/hubspot?portal=62515", data=body,
                                     headers={"Content-Type": "application/json", **headers}) as answer:
        assert answer.status == 201, await answer.text()


async def test_json_uses_the_intake_token_and_refuses_a_body_that_is_not_json(sources_app: Sources) -> None:
    lead = json.dumps({"id": "J-1", "name": "Kay", "country": "US", "tags": ["a"],
                       "extra": {"x": 1}}).encode()
    status, _, answer = await sources_app.post("feed", lead, {"Authorization": f"Bearer {TOKEN}"})
    assert status == 201
    assert as_json(answer)["queue"] == "americas"
    _, record = await sources_app.lead("J-1")
    assert record["source"] == "feed"
    assert "tags" not in record["fields"] and "extra" not in record["fields"]  # ignored, never refused
    status, _, answer = await sources_app.post("feed", b"{not json", {"Authorization": f"Bearer {TOKEN}"})
    assert status == 400
    assert "not valid JSON" in as_json(answer)["error"]
    status, headers, _ = await sources_app.post("feed", lead, {"Authorization": "Bearer nope"})
    assert status == 401
    assert headers["WWW-Authenticate"] == "Bearer"
    assert (await sources_app.counts())["leads"] == 1


async def test_an_unknown_source_is_a_404(sqlite_sources_app: Sources) -> None:
    app = sqlite_sources_app
    status, _, answer = await app.post("nowhere", b"{}")
    assert status == 404
    assert "no source named 'nowhere'" in as_json(answer)["error"]


async def test_a_source_whose_secret_is_not_set_says_so(sqlite_sources_app: Sources,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    app = sqlite_sources_app
    monkeypatch.delenv("TALLY_SECRET")
    body = fixture("tally.json")
    status, headers, answer = await app.post("tally", body, sign.tally("tally-secret", body))
    assert status == 503
    assert "TALLY_SECRET" in as_json(answer)["error"]
    assert "Retry-After" not in headers
    assert (await app.counts())["leads"] == 0


async def test_a_signature_header_sent_twice_is_refused(sqlite_sources_app: Sources) -> None:
    app = sqlite_sources_app
    body = fixture("typeform.json")
    good = sign.typeform(SECRETS["TYPEFORM_SECRET"], body)["Typeform-Signature"]
    async with app.http.post(f"{app.url}/sources/typeform", data=body, headers=[
            ("Content-Type", "application/json"), ("Typeform-Signature", good),
            ("Typeform-Signature", "sha256=other")]) as answer:
        assert answer.status == 400
        assert "more than one" in (await answer.json())["error"]
    assert (await app.counts())["leads"] == 0


HOSTILE = [
    ("typeform", {"event_type": "form_response", "form_response": {"token": 5, "answers": 5, "hidden": []}}),
    ("typeform", {"form_response": {"answers": [{"type": "choice", "choice": [1]}, "x", {"field": 3}]}}),
    ("tally", {"data": {"responseId": ["a"], "fields": [{"value": [{"id": 1}], "options": 7}]}}),
    ("tally", {"eventType": "FORM_RESPONSE", "data": "text"}),
    ("calendly", {"event": "invitee.created", "payload": {"uri": {"x": 1}, "questions_and_answers": {}}}),
    ("webflow", {"triggerType": "form_submission", "payload": {"data": [], "id": None}}),
    ("pipedrive", {"meta": {"action": "create"}, "data": {"emails": "x", "phones": [1, None]}}),
    ("hubspot", [1, "two", {"subscriptionType": 3}, {"properties": []}]),
]


@pytest.mark.parametrize(("kind", "payload"), HOSTILE, ids=[f"{k}-{i}" for i, (k, _) in enumerate(HOSTILE)])
async def test_signed_payloads_of_any_shape_are_answered_2xx_never_500(sqlite_sources_app: Sources, kind: str,
                                                                       payload: Any) -> None:
    app = sqlite_sources_app
    body = json.dumps(payload).encode()
    status, _, answer = await app.post(kind, body, signed(kind, body, app))
    assert status in (200, 201, 202), answer


@pytest.mark.parametrize("t", ["9" * 400, "-5", "1e9", "١٢٣"])
async def test_a_timestamp_that_is_no_unix_time_is_refused(sqlite_sources_app: Sources, t: str) -> None:
    app = sqlite_sources_app
    body = fixture("calendly.json")
    headers = {"Calendly-Webhook-Signature": f"t={t},v1=00"}
    status, _, answer = await app.post("calendly", body, headers)
    assert status == 401, answer
