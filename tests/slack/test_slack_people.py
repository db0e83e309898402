"""`/rotation add | remove | history | reassign` and the people modal, through the real Bolt
app with signed requests: as a manager, a rep and a stranger."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import yaml
from slack_harness import EXAMPLE, MANAGER, SECRET, Bot
from slack_limits import check, options_problems
from slack_requests import block_action, slash_command, users_select, view_submission
from slack_sdk.web.async_client import AsyncWebClient

from bot.config.routing import load_file, load_text
from bot.routing.results import Calibration
from bot.routing.service import RoutingService
from bot.slack.ids import Action, Callback
from bot.slack.people_modal import Field
from bot.store.db import Database

REP, STRANGER, DANA = "U02BOB", "U77STRANGER", "U20DANA"




def dana(bot: Bot) -> None:
    bot.slack.set_user(DANA, real_name="Dana Kim", email="dana@example.com", tz="Europe/Paris")


async def members(bot: Bot) -> dict[str, dict[str, Any]]:
    return {m["slack_id"]: m for m in (await bot.service.admin.export_config())["members"]}


async def seats(bot: Bot, queue: str) -> list[dict[str, Any]]:
    exported = await bot.service.admin.export_config()
    return next(q["members"] for q in exported["queues"] if q["name"] == queue)


async def test_a_manager_adds_a_person_read_from_their_slack_profile(bot: Bot) -> None:
    dana(bot)
    answer = await bot.command(f"add <@{DANA}|dana> to emea share 20%", user=MANAGER)
    assert answer.startswith(f"Added <@{DANA}> to the rotation.") and "emea" in answer
    assert (await members(bot))[DANA] == {"slack_id": DANA, "name": "Dana Kim", "timezone": "Europe/Paris",
                                          "email": "dana@example.com"}
    emea = await seats(bot, "emea")
    assert emea[-1] == {"slack_id": DANA, "share": "20%"}
    assert [call.body.get("user") for call in bot.slack.calls_to("users.info")][-1] == DANA
    # no `to`: the catch-all rule's queue ("Everyone else" -> all)
    bot.slack.set_user("U21EVE", real_name="Eve Stone", tz="America/Chicago")
    assert "all" in await bot.command("add <@U21EVE>", user=MANAGER)
    assert any(s["slack_id"] == "U21EVE" for s in await seats(bot, "all"))
    # the export is a config that `config check` takes
    load_text(yaml.safe_dump(await bot.service.admin.export_config()))


async def test_a_rep_and_a_stranger_are_refused_and_nothing_changes(bot: Bot) -> None:
    dana(bot)
    before = await bot.state()
    for user in (REP, STRANGER):
        for text in (f"add <@{DANA}> to emea", f"remove <@{REP}>", "reassign L-1 <@U01ALICE>"):
            answer = await bot.command(text, user=user)
            assert "for managers" in answer and "Nothing was changed" in answer, answer
    assert await bot.state() == before


async def test_bad_words_are_refused_in_plain_words(bot: Bot) -> None:
    dana(bot)
    before = await bot.state()
    cases = {
        f"add <@{DANA}> to nowhere": "no queue named 'nowhere'",
        f"add <@{DANA}> to emea weight 2": "share",
        f"add <@{DANA}> sideways": "did not understand",
        "add": "Whom should I add?",
        "add <@u-broken>": "not a Slack mention",
        "remove <@U01ALICE> from": "did not understand",
        f"remove <@{DANA}>": "not in the rotation",
    }
    for text, words in cases.items():
        answer = await bot.command(text, user=MANAGER)
        assert words in answer, (text, answer)
    bot.slack.set_user("U30GONE", deleted=True)
    assert "deactivated" in await bot.command("add <@U30GONE>", user=MANAGER)
    assert await bot.state() == before


async def test_remove_from_a_queue_then_from_the_rotation(bot: Bot) -> None:
    answer = await bot.command("remove <@U01ALICE> from us-east", user=MANAGER)
    assert "left us-east" in answer
    assert "U01ALICE" not in {s["slack_id"] for s in await seats(bot, "us-east")}
    answer = await bot.command("remove <@U01ALICE>", user=MANAGER)
    assert answer.startswith("Removed <@U01ALICE> from the rotation") and "history" in answer
    assert "U01ALICE" not in await members(bot)


async def test_a_slack_added_person_survives_a_restart_with_the_config_applied_again(
        bot: Bot, tmp_path: Path) -> None:
    dana(bot)
    await bot.command(f"add <@{DANA}> to us-east weight 2", user=MANAGER)
    await bot.command("remove <@U13LIAM>", user=MANAGER)
    restarted = RoutingService(Database(f"sqlite+aiosqlite:///{tmp_path / 'rotation.db'}"))
    await restarted.db.migrate()
    assert await restarted.admin.apply_config_if_changed(load_file(EXAMPLE), actor="serve") is None
    exported = await restarted.admin.export_config()
    assert DANA in {m["slack_id"] for m in exported["members"]}
    assert "U13LIAM" not in {m["slack_id"] for m in exported["members"]}
    # a changed file (another manager) wins for the people it names and keeps Dana
    changed = yaml.safe_load(EXAMPLE.read_text())
    changed["managers"].append("U0MANAGER2")
    applied = await restarted.admin.apply_config_if_changed(load_text(yaml.safe_dump(changed)), actor="serve")
    assert applied is not None and applied["people_kept_from_slack"] == 1
    exported = await restarted.admin.export_config()
    us_east = next(q["members"] for q in exported["queues"] if q["name"] == "us-east")
    assert {"slack_id": DANA, "weight": 2} in us_east
    assert "U13LIAM" in {m["slack_id"] for m in exported["members"]}
    await restarted.db.dispose()


async def history_opened(bot: Bot, text: str, user: str) -> dict[str, Any] | str:
    """Run `/rotation text`: the history modal it opened, or the refusal it answered."""
    opened, answered = len(bot.slack.calls_to("views.open")), len(bot.slack.responses)
    url = bot.slack.response_url("h")
    reply = await bot.post(slash_command(SECRET, text, user_id=user, response_url=url))
    assert reply.status == 200
    for _ in range(500):
        if len(bot.slack.calls_to("views.open")) > opened:
            view: dict[str, Any] = bot.slack.calls_to("views.open")[-1].body["view"]
            return view
        if len(bot.slack.responses) > answered:
            return str(bot.slack.responses[-1]["text"])
        await asyncio.sleep(0.01)
    raise AssertionError("neither a modal nor an answer")


async def test_history_for_managers_and_for_ones_own_with_more(bot: Bot) -> None:
    long_note = "why " * 500  # the longest note a calibration takes (2,000 characters)
    await bot.service.admin.calibrate(Calibration(queue="us-east", slack_id=REP, adjustment=3,
                                                  note=long_note[:2000]), actor=MANAGER)
    for i in range(12):
        await bot.service.availability.pause(REP, reason=f"reason {i}", actor=MANAGER)
        await bot.service.availability.resume(REP, actor=REP)
    view = await history_opened(bot, f"history <@{REP}>", MANAGER)
    assert isinstance(view, dict) and view["title"]["text"] == "History"
    texts = [b["text"]["text"] for b in view["blocks"] if b["type"] == "section"]
    assert texts[1].startswith("Resumed") and "<!date^" in texts[1] and f"<@{REP}>" in texts[1]
    assert texts[2].startswith("Paused until they resume — “reason 11”") and f"<@{MANAGER}>" in texts[2]
    check(view, "modal")
    [more] = [e for b in view["blocks"] if b["type"] == "actions" for e in b["elements"]]
    assert more["action_id"] == Action.HISTORY_MORE
    # the rep reads their own; a stranger and a rep asking for another are refused
    own = await history_opened(bot, "history", REP)
    assert isinstance(own, dict)
    for user, text in ((REP, "history <@U01ALICE>"), (STRANGER, f"history <@{REP}>")):
        refused = await history_opened(bot, text, user)
        assert isinstance(refused, str) and "for managers" in refused
    assert "never been in the rotation" in str(await history_opened(bot, "history", STRANGER))
    # More: the next page in the same modal
    open_view = {"id": "V0HISTORY", "hash": "h1", "private_metadata": view["private_metadata"]}
    updates = len(bot.slack.calls_to("views.update"))
    await bot.post(block_action(SECRET, Action.HISTORY_MORE, more["value"], user_id=MANAGER, view=open_view))
    [*_, update] = await bot.slack.wait_for("views.update", updates + 1)
    older = [b["text"]["text"] for b in update.body["view"]["blocks"] if b["type"] == "section"]
    assert "older entries" in older[0]
    check(update.body["view"], "modal")
    assert any("reason 6" in t for t in older) and not any("reason 6" in t for t in texts)
    # the last page: the adjustment with its whole note, within a section's 3,000 characters
    last = update.body["view"]
    while any(b["type"] == "actions" for b in last["blocks"]):
        [button] = [e for b in last["blocks"] if b["type"] == "actions" for e in b["elements"]]
        updates = len(bot.slack.calls_to("views.update"))
        await bot.post(block_action(SECRET, Action.HISTORY_MORE, button["value"], user_id=MANAGER,
                                    view={"id": "V0HISTORY", "hash": "h2",
                                          "private_metadata": last["private_metadata"]}))
        last = (await bot.slack.wait_for("views.update", updates + 1))[-1].body["view"]
    sections = [b["text"]["text"] for b in last["blocks"] if b["type"] == "section"]
    [adjusted] = [t for t in sections if t.startswith("Adjusted")]
    assert adjusted.startswith("Adjusted in *us-east* by +3 leads")
    check(last, "modal")
    assert long_note[:2000].strip()[:1500] in adjusted
    # a stranger's forged More changes nothing and shows nothing
    await bot.post(block_action(SECRET, Action.HISTORY_MORE, more["value"], user_id=STRANGER, view=open_view))
    await bot.command("help", user=STRANGER)  # a request after it: the More was handled by now
    assert len(bot.slack.calls_to("views.update")) == updates + 1


async def test_the_people_modal_adds_with_limits_and_shows_errors_on_the_field(bot: Bot) -> None:
    dana(bot)
    home = {"id": "VHOME", "hash": "h"}
    await bot.post(block_action(SECRET, Action.HOME_PEOPLE, "open", user_id=MANAGER, view=home))
    [call] = await bot.slack.wait_for("views.open")
    view = call.body["view"]
    assert view["callback_id"] == Callback.PEOPLE
    check(view, "modal")
    queue_input = next(b for b in view["blocks"] if b.get("block_id") == Field.QUEUES)
    assert queue_input["element"]["type"] == "multi_static_select"
    assert len(queue_input["element"]["options"]) == 7

    def values(capacity: str | None, hours: str | None, queues: list[str]) -> dict[str, Any]:
        return {Field.USER: {Action.PEOPLE_USER: users_select(DANA)},
                Field.QUEUES: {Field.QUEUES: {"type": "multi_static_select", "selected_options": [
                    {"text": {"type": "plain_text", "text": q}, "value": q} for q in queues]}},
                Field.WEIGHT: {Field.WEIGHT: None}, Field.CAPACITY: {Field.CAPACITY: capacity},
                Field.HOURS: {Field.HOURS: hours}}

    before = await bot.state()
    bad = await bot.post(view_submission(SECRET, Callback.PEOPLE, values("lots", None, ["us-west"]),
                                         user_id=MANAGER))
    assert bad.json()["response_action"] == "errors" and Field.CAPACITY in bad.json()["errors"]
    bad = await bot.post(view_submission(SECRET, Callback.PEOPLE, values("5", "whenever", ["us-west"]),
                                         user_id=MANAGER))
    assert Field.HOURS in bad.json()["errors"]
    refused = await bot.post(view_submission(SECRET, Callback.PEOPLE, values("5", None, ["us-west"]),
                                             user_id=REP))
    assert "Only managers" in refused.json()["errors"][Field.USER]
    assert await bot.state() == before
    done = await bot.post(view_submission(SECRET, Callback.PEOPLE,
                                          values("5", "Mon-Fri 08:00-16:00", ["us-west", "all"]),
                                          user_id=MANAGER))
    assert done.status == 200 and not done.text
    person = (await members(bot))[DANA]
    assert (person["capacity"], person["working_hours"]) == (5, "Mon-Fri 08:00-16:00")
    assert person["name"] == "Dana Kim"
    assert DANA in {s["slack_id"] for s in await seats(bot, "us-west")}
    [*_, said] = await bot.slack.wait_for("chat.postMessage")
    assert said.body["channel"] == MANAGER and "Added" in said.body["text"]
    # a rep clicking People gets no modal
    opened, posted = len(bot.slack.calls_to("views.open")), len(bot.slack.calls_to("chat.postMessage"))
    await bot.post(block_action(SECRET, Action.HOME_PEOPLE, "open", user_id=REP, view=home))
    [*_, told] = await bot.slack.wait_for("chat.postMessage", posted + 1)
    assert "Only managers" in told.body["text"] and len(bot.slack.calls_to("views.open")) == opened


async def test_past_100_queues_the_modal_asks_bolt_for_options(bot: Bot) -> None:
    config = yaml.safe_load(EXAMPLE.read_text())
    config["queues"] += [{"name": f"extra-{i:03d}", "members": [{"slack_id": "U01ALICE"}]}
                         for i in range(110)]
    await bot.service.admin.apply_config(load_text(yaml.safe_dump(config)))
    home = {"id": "V", "hash": "h"}
    await bot.post(block_action(SECRET, Action.HOME_PEOPLE, "open", user_id=MANAGER, view=home))
    [call] = await bot.slack.wait_for("views.open")
    queue_input = next(b for b in call.body["view"]["blocks"] if b.get("block_id") == Field.QUEUES)
    assert queue_input["element"]["type"] == "multi_external_select"
    check(call.body["view"], "modal")
    payload = {"type": "block_suggestion", "action_id": Field.QUEUES.value, "block_id": Field.QUEUES.value,
               "value": "extra-10", "user": {"id": MANAGER, "name": "m"}, "team": {"id": "T0TEAM"},
               "api_app_id": "A0ROTATION", "token": "x", "view": {"id": "V", "type": "modal"}}
    from slack_requests import _interaction

    answer = await bot.post(_interaction(SECRET, payload, None))
    assert options_problems(json.loads(answer.text)) == []
    names = [o["value"] for o in json.loads(answer.text)["options"]]
    assert names == [f"extra-{i}" for i in range(100, 110)]
    everything = await bot.post(_interaction(SECRET, payload | {"value": ""}, None))
    assert len(json.loads(everything.text)["options"]) == 100  # 117 queues: Slack's 100 at most
    assert options_problems(json.loads(everything.text)) == []


BOT_USER, GONE = "U40HELPBOT", "U41GONE"
NOT_A_PERSON = {
    "USLACKBOT": "Slackbot is a bot, not a person, so it cannot take leads; nothing was changed.",
    BOT_USER: f"<@{BOT_USER}> is a bot, not a person, so it cannot take leads; nothing was changed.",
    GONE: f"<@{GONE}> is deactivated in Slack; nothing was changed.",
}


def bots_and_the_gone(bot: Bot) -> None:
    """An app's bot user and a deactivated person; Slackbot is the fake's own, is_bot false as in Slack."""
    bot.slack.set_user(BOT_USER, real_name="Help Bot", is_bot=True)
    bot.slack.set_user(GONE, real_name="Gil Gone", deleted=True)


async def test_a_bot_slackbot_or_a_deactivated_user_is_never_added_by_command(bot: Bot) -> None:
    bots_and_the_gone(bot)
    slack = AsyncWebClient(token="xoxb-test", base_url=bot.slack.api_url)
    slackbot = await slack.users_info(user="USLACKBOT")
    assert (slackbot["user"]["name"], slackbot["user"]["is_bot"], slackbot["user"]["deleted"]) == (
        "slackbot", False, False)  # so it is refused by its id, not by is_bot
    before = await bot.state()
    for slack_id, words in NOT_A_PERSON.items():
        for text in (f"add <@{slack_id}>", f"add <@{slack_id}|x> to us-east weight 2"):
            assert await bot.command(text, user=MANAGER) == words, text
    assert await bot.state() == before
    assert not set(NOT_A_PERSON) & set(await members(bot))
    bot.slack.set_user("U42BACK", real_name="Bo Back", is_bot=False, deleted=False)
    assert "Added" in await bot.command("add <@U42BACK>", user=MANAGER)
    assert "U42BACK" in await members(bot)


async def test_the_people_modal_refuses_them_on_the_person_field(bot: Bot) -> None:
    bots_and_the_gone(bot)
    before = await bot.state()
    posted = len(bot.slack.calls_to("chat.postMessage"))
    said = {"USLACKBOT": NOT_A_PERSON["USLACKBOT"],
            BOT_USER: "Help Bot is a bot, not a person, so it cannot take leads; nothing was changed.",
            GONE: "Gil Gone is deactivated in Slack; nothing was changed."}
    for slack_id, words in said.items():
        values = {Field.USER: {Action.PEOPLE_USER: users_select(slack_id)},
                  Field.QUEUES: {Field.QUEUES: {"type": "multi_static_select", "selected_options": []}},
                  Field.WEIGHT: {Field.WEIGHT: None}, Field.CAPACITY: {Field.CAPACITY: "5"},
                  Field.HOURS: {Field.HOURS: None}}
        refused = await bot.post(view_submission(SECRET, Callback.PEOPLE, values, user_id=MANAGER))
        assert refused.json() == {"response_action": "errors", "errors": {Field.USER: words}}, slack_id
    assert await bot.state() == before
    assert len(bot.slack.calls_to("chat.postMessage")) == posted
