"""A browser's form post: urlencoded or multipart, a 303 to the thank-you page whatever became
of it, a honeypot that drops bots, and a made-up id when the form has none."""

from __future__ import annotations

import aiohttp
from sources_support import Sources, fixture
from sqlalchemy import select

from bot.store.models import Lead

FORM = "application/x-www-form-urlencoded"


async def test_a_form_post_is_a_lead_and_the_browser_goes_to_the_thank_you_page(sources_app: Sources) -> None:
    status, headers, _ = await sources_app.post("website", fixture("form.urlencoded"), content_type=FORM)
    assert status == 303
    assert headers["Location"] == "https://example.com/thanks"
    leads = await sources_app.rows(select(Lead.id, Lead.fields, Lead.source, Lead.queue))
    assert len(leads) == 1
    lead = leads[0]
    assert lead.id.startswith("form-") and lead.source == "website" and lead.queue == "emea"
    assert lead.fields["email"] == "jo@wayne.com" and lead.fields["company"] == "Wayne Enterprises"
    assert lead.fields["interest"] == "routing, reports"  # a field given twice: both values
    assert "website" not in lead.fields  # the (empty) honeypot is not a lead field


async def test_a_resubmitted_form_is_a_second_lead_unless_it_has_an_id(sources_app: Sources) -> None:
    for _ in range(2):
        await sources_app.post("website", fixture("form.urlencoded"), content_type=FORM)
    assert (await sources_app.counts())["leads"] == 2
    with_id = b"id=W-7&name=Lou&country=US"
    for _ in range(2):
        status, _, _ = await sources_app.post("website", with_id, content_type=FORM)
        assert status == 303
    leads = await sources_app.rows(select(Lead.id).where(Lead.id == "W-7"))
    assert len(leads) == 1 and (await sources_app.counts())["leads"] == 3


async def test_a_filled_honeypot_drops_the_post_with_the_same_303(sources_app: Sources) -> None:
    bot_post = fixture("form.urlencoded").replace(b"website=", b"website=http%3A%2F%2Fspam.example")
    status, headers, _ = await sources_app.post("website", bot_post, content_type=FORM)
    assert status == 303 and headers["Location"] == "https://example.com/thanks"
    counts = await sources_app.counts()
    assert (counts["leads"], counts["parked"]) == (0, 0)
    assert await sources_app.metric("website", "ignored") == 1


async def test_the_honeypot_is_found_whatever_the_case_of_its_name(sources_app: Sources) -> None:
    """Found from outside: `HP=spam` against `honeypot: hp` was stored as a lead."""
    bot_post = fixture("form.urlencoded").replace(b"website=", b"WebSite=http%3A%2F%2Fspam.example")
    assert bot_post != fixture("form.urlencoded")
    status, _, _ = await sources_app.post("website", bot_post, content_type=FORM)
    assert status == 303
    assert (await sources_app.counts())["leads"] == 0


async def test_multipart_form_data_is_read_and_files_are_left_out(sources_app: Sources) -> None:
    form = aiohttp.FormData()
    form.add_field("name", "Mo Diaz")
    form.add_field("email", "mo@tyrell.com")
    form.add_field("country", "CA")
    form.add_field("cv", b"%PDF-1.4 ...", filename="cv.pdf", content_type="application/pdf")
    async with sources_app.http.post(f"{sources_app.url}/sources/website", data=form,
                                     allow_redirects=False) as answer:
        assert answer.status == 303
    leads = await sources_app.rows(select(Lead.fields, Lead.queue))
    assert len(leads) == 1
    assert leads[0].fields["email"] == "mo@tyrell.com" and "cv" not in leads[0].fields
    assert leads[0].queue == "americas"


async def test_a_body_no_browser_form_sends_is_a_415(sources_app: Sources) -> None:
    status, _, _ = await sources_app.post("website", b'{"id": "x"}', content_type="application/json")
    assert status == 415
    assert (await sources_app.counts())["leads"] == 0
