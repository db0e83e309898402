"""The calibrate modal: opening it, previewing a change, and saving or refusing a submission."""

from __future__ import annotations

from typing import Any

import yaml
from slack_harness import MANAGER, SECRET, Bot, sr

from bot.config.routing import load_text
from bot.routing.results import Calibration, SeatStanding


def values(member: str | None = "U01ALICE", queue: str | None = "us-east", weight: str | None = None,
           adjustment: str | None = None, note: str | None = None, active: str = "keep") -> dict[str, Any]:
    """The modal's state.values as Slack would send them."""
    return {
        "calibrate_member": {"calibrate_member": sr.users_select(member)},
        "calibrate_queue": {"calibrate_queue": sr.static_select(queue)},
        "calibrate_weight": {"calibrate_weight": sr.plain_text(weight)},
        "calibrate_adjustment": {"calibrate_adjustment": sr.plain_text(adjustment)},
        "calibrate_note": {"calibrate_note": sr.plain_text(note)},
        "calibrate_active": {"calibrate_active": {"type": "radio_buttons",
                                                  "selected_option": {"value": active}}},
    }


async def seat(bot: Bot, queue: str, slack_id: str) -> SeatStanding:
    [standing] = await bot.service.ledger.standings(queue)
    return next(s for s in standing.seats if s.slack_id == slack_id)


def block(view: dict[str, Any], block_id: str) -> dict[str, Any]:
    return next(b for b in view["blocks"] if b.get("block_id") == block_id)


async def test_manager_opens_modal_with_member_preselected(bot: Bot) -> None:
    await bot.post(sr.slash_command(SECRET, "calibrate <@U01ALICE|alice>", user_id=MANAGER,
                                    response_url=bot.slack.response_url("cmd")))
    [opened] = await bot.slack.wait_for("views.open")
    view = opened.body["view"]
    assert opened.body["trigger_id"] == sr.DEFAULT_TRIGGER_ID
    assert view["callback_id"] == "calibrate_modal" and view["type"] == "modal"
    assert block(view, "calibrate_member")["element"]["initial_user"] == "U01ALICE"
    assert block(view, "calibrate_queue")["element"]["initial_option"]["value"] == "us-east"
    numbers = block(view, "calibrate_numbers")["text"]["text"]
    assert "Alice Moreau" in numbers and "weight 2" in numbers
    preview = block(view, "calibrate_preview")["fields"][0]["text"]
    assert preview.startswith("*Next 10 now*") and preview.count("\n") == 10
    assert bot.slack.responses == []  # nothing to say: the modal is the answer


async def test_unknown_name_is_refused(bot: Bot) -> None:
    assert "is not a member" in await bot.command("calibrate @zelda", user=MANAGER)
    assert bot.slack.calls_to("views.open") == []


async def test_a_name_typed_as_plain_text_finds_the_member(bot: Bot) -> None:
    await bot.post(sr.slash_command(SECRET, "calibrate @alice", user_id=MANAGER,
                                    response_url=bot.slack.response_url("cmd")))
    [opened] = await bot.slack.wait_for("views.open")
    assert block(opened.body["view"], "calibrate_member")["element"]["initial_user"] == "U01ALICE"


async def test_valid_submission_changes_the_ledger_and_confirms(bot: Bot) -> None:
    reply = await bot.post(sr.view_submission(
        SECRET, "calibrate_modal", values(weight="3", adjustment="+5", note="covering Bob's accounts"),
        user_id=MANAGER))
    assert reply.status == 200 and reply.text == ""  # closes the modal
    alice = await seat(bot, "us-east", "U01ALICE")
    assert alice.weight_text == "3" and alice.adjustment == 5
    [confirmation] = await bot.slack.wait_for("chat.postMessage")
    assert confirmation.body["channel"] == MANAGER
    assert "Calibration saved" in confirmation.body["text"] and "+5" in confirmation.body["text"]


async def test_save_clicked_twice_saves_once(bot: Bot) -> None:
    """A manager clicks Save again while the first was slow: the same view, submitted twice."""
    state = values(adjustment="+2", note="covering Bob's accounts")
    for _ in range(2):
        reply = await bot.post(sr.view_submission(SECRET, "calibrate_modal", state, user_id=MANAGER,
                                                  view_id="V0TWICE"))
        assert reply.status == 200 and reply.text == ""  # both close the modal
    assert (await seat(bot, "us-east", "U01ALICE")).adjustment == 2  # not 4
    await bot.slack.wait_for("chat.postMessage")
    assert len(bot.slack.calls_to("chat.postMessage")) == 1  # one confirmation
    # another modal (another view) is another calibration
    await bot.post(sr.view_submission(SECRET, "calibrate_modal", state, user_id=MANAGER, view_id="V0AGAIN"))
    assert (await seat(bot, "us-east", "U01ALICE")).adjustment == 4


async def test_a_refused_save_can_be_corrected_and_saved_in_the_same_modal(bot: Bot) -> None:
    refused = await bot.post(sr.view_submission(SECRET, "calibrate_modal", values(adjustment="+2"),
                                                user_id=MANAGER, view_id="V0FIX"))
    assert "note" in refused.json()["errors"]["calibrate_note"]
    saved = await bot.post(sr.view_submission(SECRET, "calibrate_modal", values(adjustment="+2", note="x"),
                                              user_id=MANAGER, view_id="V0FIX"))
    assert saved.text == "" and (await seat(bot, "us-east", "U01ALICE")).adjustment == 2


async def test_active_toggle(bot: Bot) -> None:
    reply = await bot.post(sr.view_submission(SECRET, "calibrate_modal", values(active="off"),
                                              user_id=MANAGER))
    assert reply.status == 200
    assert not (await seat(bot, "us-east", "U01ALICE")).eligible


async def assert_refused(bot: Bot, state: dict[str, Any], field: str, words: str) -> None:
    before = await bot.service.ledger.standings("us-east")
    reply = await bot.post(sr.view_submission(SECRET, "calibrate_modal", state, user_id=MANAGER))
    assert reply.status == 200
    answer = reply.json()
    assert answer["response_action"] == "errors"
    assert list(answer["errors"]) == [field] and words in answer["errors"][field]
    assert await bot.service.ledger.standings("us-east") == before


async def test_invalid_submissions_show_errors_on_the_field(bot: Bot) -> None:
    await assert_refused(bot, values(adjustment="+5"), "calibrate_note", "note")
    await assert_refused(bot, values(adjustment="lots", note="x"), "calibrate_adjustment", "whole number")
    await assert_refused(bot, values(weight="heavy"), "calibrate_weight", "Weight")
    await assert_refused(bot, values(member=None, weight="2"), "calibrate_member", "Pick the member")
    await assert_refused(bot, values(member="U07GRACE", weight="2"), "calibrate_member", "not in us-east")
    await assert_refused(bot, values(), "calibrate_weight", "Nothing to save")
    assert bot.slack.calls_to("chat.postMessage") == []


async def test_non_manager_submission_is_refused(bot: Bot) -> None:
    reply = await bot.post(sr.view_submission(SECRET, "calibrate_modal", values(weight="9"),
                                              user_id="U02BOB"))
    assert "managers" in reply.json()["errors"]["calibrate_member"]
    assert (await seat(bot, "us-east", "U01ALICE")).weight_text == "2"


async def test_preview_shows_the_effect_of_plus_five(bot: Bot) -> None:
    view = {"id": "V42", "hash": "h1", "private_metadata": "",
            "state": {"values": values(adjustment="+5", note="test")}}
    await bot.post(sr.block_action(SECRET, "calibrate_preview", "preview", user_id=MANAGER, view=view,
                                   block_id="preview"))
    [update] = await bot.slack.wait_for("views.update")
    assert update.body["view_id"] == "V42" and update.body["hash"] == "h1"
    now_text, after_text = (f["text"] for f in block(update.body["view"], "calibrate_preview")["fields"])
    expected_now = await bot.service.admin.preview("us-east")
    expected_after = await bot.service.admin.preview("us-east", change=Calibration(
        queue="us-east", slack_id="U01ALICE", adjustment=5, note="test"))
    assert [p.name for p in expected_now] != [p.name for p in expected_after]
    assert after_text == "*With this change*\n" + "\n".join(
        f"{p.position}. {p.name}" for p in expected_after)
    assert now_text.count("Alice Moreau") > after_text.count("Alice Moreau")
    assert (await seat(bot, "us-east", "U01ALICE")).adjustment == 0  # a preview commits nothing


async def test_changing_the_queue_refreshes_numbers(bot: Bot) -> None:
    view = {"id": "V43", "hash": "h2", "state": {"values": values(queue="enterprise")}}
    await bot.post(sr.block_action(SECRET, "calibrate_queue", None, user_id=MANAGER, view=view,
                                   action={"type": "static_select",
                                           "selected_option": {"value": "enterprise"}}))
    [update] = await bot.slack.wait_for("views.update")
    assert "in *enterprise*" in block(update.body["view"], "calibrate_numbers")["text"]["text"]


async def test_add_and_remove_from_queue(bot: Bot) -> None:
    view = {"id": "V44", "hash": "h3", "state": {"values": values(member="U07GRACE")}}
    value = '{"member": "U07GRACE", "queue": "us-east"}'
    await bot.post(sr.block_action(SECRET, "calibrate_add_queue", value, user_id=MANAGER, view=view))
    [update] = await bot.slack.wait_for("views.update")
    assert "joined us-east" in str(update.body["view"]["blocks"])
    assert (await seat(bot, "us-east", "U07GRACE")).weight_text == "1"
    await bot.post(sr.block_action(SECRET, "calibrate_remove_queue", value, user_id=MANAGER, view=view))
    await bot.slack.wait_for("views.update", 2)
    [standing] = await bot.service.ledger.standings("us-east")
    assert "U07GRACE" not in {s.slack_id for s in standing.seats}
    # A forged click by a rep changes nothing and is shown nothing (the preview is a manager's).
    await bot.post(sr.block_action(SECRET, "calibrate_add_queue", value, user_id="U02BOB", view=view))
    stranger = '{"member": "U99NOBODY", "queue": "us-east"}'
    await bot.post(sr.block_action(SECRET, "calibrate_add_queue", stranger, user_id=MANAGER, view=view))
    [*_, unknown] = await bot.slack.wait_for("views.update", 3)
    assert "U99NOBODY is not among the members in the routing config" in str(unknown.body["view"]["blocks"])
    assert len(bot.slack.calls_to("views.update")) == 3, "the rep's forged click was answered with a view"
    [standing] = await bot.service.ledger.standings("us-east")
    assert "U07GRACE" not in {s.slack_id for s in standing.seats}


async def test_a_weight_the_config_refuses_is_shown_on_the_field(bot: Bot) -> None:
    """Out of the config's range (10001, 1e-300, 4 decimals): refused on the weight field, in its words."""
    await assert_refused(bot, values(weight="10001"), "calibrate_weight", "at most 10000")
    await assert_refused(bot, values(weight="1e-300"), "calibrate_weight", "at least 0.001")
    await assert_refused(bot, values(weight="1.2345"), "calibrate_weight", "at most 3 decimals")
    await assert_refused(bot, values(weight="99.99%"), "calibrate_weight", "would be a weight of")
    assert (await seat(bot, "us-east", "U01ALICE")).weight_text == "2"
    assert bot.slack.calls_to("chat.postMessage") == []


async def test_a_weight_in_a_queue_of_shares_is_refused_on_the_field(bot: Bot) -> None:
    """emea gives shares: a plain 3 would have mixed a weight in (and broken `config export`)."""
    before = await bot.service.ledger.standings("emea")
    reply = await bot.post(sr.view_submission(
        SECRET, "calibrate_modal", values(member="U07GRACE", queue="emea", weight="3"), user_id=MANAGER))
    answer = reply.json()
    assert answer["response_action"] == "errors" and list(answer["errors"]) == ["calibrate_weight"]
    assert "emea gives each member a share of its leads, so write a share like 18%" in answer[
        "errors"]["calibrate_weight"]
    assert await bot.service.ledger.standings("emea") == before
    assert bot.slack.calls_to("chat.postMessage") == []


async def test_the_weight_field_says_the_queues_rules(bot: Bot) -> None:
    """The modal for a queue of shares asks for a share; for a queue of weights, says the range."""
    for queue, label, words in (("emea", "Share", "gives each member a share"),
                                ("us-east", "Weight", "from 0.001 to 10000")):
        view = {"id": f"V-{queue}", "hash": "h", "state": {"values": values(member="U07GRACE", queue=queue)}}
        await bot.post(sr.block_action(SECRET, "calibrate_queue", None, user_id=MANAGER, view=view,
                                       action={"type": "static_select", "selected_option": {"value": queue}}))
        *_, update = await bot.slack.wait_for("views.update", 1 if queue == "emea" else 2)
        field = block(update.body["view"], "calibrate_weight")
        assert field["label"]["text"] == label and words in field["hint"]["text"]


async def test_a_share_saved_in_a_queue_of_shares_is_confirmed_with_the_others(bot: Bot) -> None:
    """20% for Isabel in emea: the DM says how the others made room, and the export still checks."""
    reply = await bot.post(sr.view_submission(
        SECRET, "calibrate_modal", values(member="U09ISABEL", queue="emea", weight="20%"), user_id=MANAGER))
    assert reply.status == 200 and "errors" not in reply.text
    [sent] = await bot.slack.wait_for("chat.postMessage")
    assert "weight 20% (the others' shares made room: Jonas" in sent.body["text"]
    # raises on what `config check` refuses
    load_text(yaml.safe_dump(await bot.service.admin.export_config()))
