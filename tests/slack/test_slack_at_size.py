"""A manager's surfaces at a real team's size: App Home, `/rotation who`, the calibrate modal.

Teams of 200 members in 30 queues and 1,000 members in 120 queues (every member in a queue of
everyone, and in two others), driven through signed requests only; every view, message and
options answer is checked against Slack's documented limits (slack_limits.py), and every
member of the biggest queue is reached by turning pages.
"""

from __future__ import annotations

import asyncio
import json
import shutil
import threading
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import slack_limits
import yaml
from slack_harness import MANAGER, SECRET, Bot, FakeSlack, running_bot, sr

from bot.config.routing import load_text
from bot.routing.service import RoutingService
from bot.store.db import Database

SIZES = {"200x30": (200, 30), "1000x120": (1000, 120)}
BIGGEST = "everyone"
STRANGER = "U0STRANGER"
JsonDict = dict[str, Any]


def member_id(i: int) -> str:
    return f"U{i:06d}"


def team_config(members: int, queues: int) -> str:
    """Everyone in one queue, and each member in two of the others."""
    people = [{"slack_id": member_id(i), "name": f"Member {i} Ramanathan-Oyelaran-Castellanos",
               "timezone": "Europe/London"} for i in range(members)]
    others = queues - 1
    listed = [{"name": BIGGEST, "members": [{"slack_id": p["slack_id"]} for p in people]}]
    for k in range(others):
        seats = [{"slack_id": member_id(i)} for i in range(members)
                 if k in (i % others, (i * 7 + 3) % others)]
        listed.append({"name": f"queue-{k:03d}", "members": seats})
    return yaml.safe_dump({"timezone": "America/New_York", "managers": [MANAGER], "members": people,
                           "queues": listed, "rules": [{"name": "all", "queue": BIGGEST}]})


def build_database(path: Path, config_text: str) -> None:
    """A migrated SQLite file with the team applied (in a thread of its own: no loop is shared)."""
    async def build() -> None:
        db = Database(f"sqlite+aiosqlite:///{path}")
        await db.migrate()
        await RoutingService(db).admin.apply_config(load_text(config_text))
        await db.dispose()

    failures: list[BaseException] = []

    def run() -> None:
        try:
            asyncio.run(build())
        except BaseException as error:  # handed to the test below
            failures.append(error)

    worker = threading.Thread(target=run)
    worker.start()
    worker.join()
    if failures:
        raise failures[0]


@dataclass(frozen=True)
class Team:
    members: int
    queues: int
    template: Path


@pytest.fixture(scope="module", params=list(SIZES), ids=list(SIZES))
def team(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Team]:
    members, queues = SIZES[request.param]
    template = tmp_path_factory.mktemp(request.param) / "team.db"
    build_database(template, team_config(members, queues))
    yield Team(members, queues, template)


@pytest.fixture
async def big(team: Team, slack: FakeSlack, tmp_path: Path) -> AsyncIterator[Bot]:
    copy = tmp_path / "team.db"
    shutil.copy(team.template, copy)
    db = Database(f"sqlite+aiosqlite:///{copy}")
    try:
        async with running_bot(slack, RoutingService(db)) as running:
            yield running
    finally:
        await db.dispose()


# -- helpers: Slack's requests, and reading what the bot sent ----------------------------


async def open_home(bot: Bot, user: str) -> JsonDict:
    before = len(bot.slack.calls_to("views.publish"))
    event = {"type": "app_home_opened", "user": user, "channel": f"D{user}", "tab": "home",
             "event_ts": "1700000000.000100"}
    reply = await bot.post(sr.event_callback(SECRET, event, event_id=f"EvHome{user}{before}"))
    assert reply.status == 200
    return await published(bot, before)


async def published(bot: Bot, before: int) -> JsonDict:
    calls = await bot.slack.wait_for("views.publish", before + 1)
    view: JsonDict = calls[before].body["view"]
    slack_limits.check(view, "home")
    return view


async def click_home(bot: Bot, view: JsonDict, action_id: str, value: str | None = None,
                     action: JsonDict | None = None) -> JsonDict:
    before = len(bot.slack.calls_to("views.publish"))
    home = {"id": "VHOME", "type": "home", "private_metadata": view.get("private_metadata", "")}
    await bot.post(sr.block_action(SECRET, action_id, value, user_id=MANAGER, view=home, action=action))
    return await published(bot, before)


def elements(view: JsonDict) -> list[JsonDict]:
    found = [e for b in view["blocks"] if b["type"] == "actions" for e in b["elements"]]
    return found + [b["accessory"] for b in view["blocks"] if b.get("accessory")]


def history_ids(view: JsonDict) -> list[str]:
    return [e["value"] for e in elements(view) if e["action_id"] == "member_history"]


def button(view: JsonDict, text: str) -> JsonDict | None:
    return next((e for e in elements(view) if e["type"] == "button" and e["text"]["text"].startswith(text)),
                None)


def picker(view: JsonDict) -> JsonDict:
    return next(e for e in elements(view) if e["action_id"] == "home_queue_pick")


async def options(bot: Bot, action_id: str, typed: str, user: str = MANAGER,
                  view: JsonDict | None = None) -> JsonDict:
    """A block_suggestion (an external select's options request), as Slack posts it."""
    person = {"id": user, "username": "u", "name": "u", "team_id": "T0TEAM"}
    payload = {"type": "block_suggestion", "user": person,
               "container": {"type": "view", "view_id": "V1"}, "api_app_id": sr.API_APP_ID,
               "token": sr.VERIFICATION_TOKEN, "action_id": action_id, "block_id": "b1", "value": typed,
               "team": {"id": "T0TEAM", "domain": "test-team"},
               "view": view or {"id": "V1", "type": "home", "blocks": [], "private_metadata": ""}}
    reply = await bot.post(sr._interaction(SECRET, payload, None))
    assert reply.status == 200, reply.text
    answer: JsonDict = reply.json()
    assert not slack_limits.options_problems(answer), slack_limits.options_problems(answer)
    return answer


async def who(bot: Bot, words: str, user: str = MANAGER) -> JsonDict:
    before = len(bot.slack.responses)
    reply = await bot.post(sr.slash_command(SECRET, words, user_id=user,
                                            response_url=bot.slack.response_url("who")))
    assert reply.status == 200
    answer = (await bot.slack.wait_for_responses(before + 1))[before]
    slack_limits.check(answer, "message")
    return answer


async def turn_who(bot: Bot, value: str, user: str = MANAGER) -> JsonDict:
    before = len(bot.slack.responses)
    await bot.post(sr.block_action(SECRET, "who_page.0", value, user_id=user,
                                   container={"type": "message", "message_ts": "1700000000.0001",
                                              "channel_id": "C0GENERAL", "is_ephemeral": True},
                                   response_url=bot.slack.response_url("who")))
    answer = (await bot.slack.wait_for_responses(before + 1))[before]
    assert answer.get("replace_original") is True
    slack_limits.check(answer, "message")
    return answer


def who_buttons(answer: JsonDict) -> dict[str, JsonDict]:
    return {e["text"]["text"]: e for b in answer.get("blocks", []) if b["type"] == "actions"
            for e in b["elements"]}


def names_in(answer: JsonDict) -> set[str]:
    text = " ".join(b["text"]["text"] for b in answer["blocks"] if b["type"] == "section")
    return {word for word in text.replace("*", " ").split() if word.isdigit()}


# -- App Home ----------------------------------------------------------------------------


async def test_manager_home_reaches_every_member_of_the_biggest_queue(big: Bot, team: Team) -> None:
    view = await open_home(big, MANAGER)
    pick = picker(view)
    assert pick["type"] == ("external_select" if team.queues > 100 else "static_select")
    if pick["type"] == "static_select":
        assert [o["value"] for o in pick["options"]] == await big.service.admin.queue_names()
    assert pick["initial_option"]["value"] == BIGGEST  # the first queue
    assert button(view, "People") is not None
    seen: list[str] = []
    pages = 0
    while True:
        pages += 1
        seen += history_ids(view)
        calibrate = [e for e in elements(view) if e["action_id"] == "home_calibrate"]
        assert len(calibrate) == len(history_ids(view)) > 0
        assert all(json.loads(c["value"])["queue"] == BIGGEST for c in calibrate)
        turn = button(view, "Next")
        if turn is None:
            break
        view = await click_home(big, view, turn["action_id"], turn["value"])
    assert sorted(seen) == [member_id(i) for i in range(team.members)]  # each once, none missing
    assert pages > 1
    back = button(view, "‹ Previous")
    assert back is not None
    earlier = await click_home(big, view, back["action_id"], back["value"])
    assert history_ids(earlier)[0] < history_ids(view)[0]


async def test_manager_home_picks_any_queue(big: Bot, team: Team) -> None:
    view = await open_home(big, MANAGER)
    last = f"queue-{team.queues - 2:03d}"
    choice = {"type": picker(view)["type"], "selected_option": {
        "text": {"type": "plain_text", "text": last}, "value": last}}
    shown = await click_home(big, view, "home_queue_pick", None, action=choice)
    assert picker(shown)["initial_option"]["value"] == last
    standings = await big.service.ledger.standings(last)
    assert sorted(history_ids(shown)) == sorted(s.slack_id for s in standings[0].seats)
    # a Pause click elsewhere on the Home keeps the manager's place (they are no member: refused)
    again = await click_home(big, shown, "home_pause", "pause")
    assert picker(again)["initial_option"]["value"] == last


async def test_queue_options_for_the_external_picker(big: Bot, team: Team) -> None:
    names = await big.service.admin.queue_names()
    everything = await options(big, "home_queue_pick", "")
    assert [o["value"] for o in everything["options"]] == names[:100]
    some = await options(big, "home_queue_pick", "QUEUE-01")
    assert some["options"] and all("queue-01" in o["value"] for o in some["options"])
    assert (await options(big, "home_queue_pick", "mars"))["options"] == []
    assert (await options(big, "home_queue_pick", "", user=STRANGER))["options"] == []
    calibrate = await options(big, "calibrate_queue", "everyone", view={"id": "V2", "type": "modal"})
    assert [o["value"] for o in calibrate["options"]] == [BIGGEST]


async def test_people_and_history_open_from_a_big_home(big: Bot, team: Team) -> None:
    """The Home's People button and a member's History button open their modals (other
    modules' work), which hold to Slack's limits at this size too."""
    view = await open_home(big, MANAGER)
    home = {"id": "VHOME", "type": "home", "private_metadata": view["private_metadata"]}
    people, history = button(view, "People"), button(view, "History")
    assert people is not None and history is not None
    for clicked in (people, history):
        await big.post(sr.block_action(SECRET, clicked["action_id"], clicked["value"], user_id=MANAGER,
                                       view=home))
    opened = await big.slack.wait_for("views.open", 2)
    for call in opened:
        slack_limits.check(call.body["view"], "modal")


# -- /rotation who ------------------------------------------------------------------------


async def test_who_pages_one_queue_at_a_time_summary_first(big: Bot, team: Team) -> None:
    first = await who(big, "who")
    summary = first["blocks"][0]["text"]["text"]
    assert summary.startswith(f"*{team.queues} queues*")
    assert any(f"*{BIGGEST}* (" in b["text"]["text"] for b in first["blocks"] if b["type"] == "section")
    assert len(first["text"]) <= 4000
    buttons = who_buttons(first)
    assert "Next ›" in buttons and "‹ Previous" not in buttons
    jump = next(b for text, b in buttons.items() if text.startswith("Next queue"))
    second_queue = await turn_who(big, jump["value"])
    assert any("*queue-000* (" in b["text"]["text"] for b in second_queue["blocks"] if b["type"] == "section")
    last_page = json.dumps({"queue": None, "page": 10**5})  # past the end: the last page
    last = await turn_who(big, last_page)
    assert "Next ›" not in who_buttons(last)
    assert f"queue-{team.queues - 2:03d}" in last["text"]


async def test_who_one_queue_reaches_every_member(big: Bot, team: Team) -> None:
    answer = await who(big, "who EVERYONE")
    seen: set[str] = set()
    while True:
        seen |= names_in(answer)
        nxt = who_buttons(answer).get("Next ›")
        if nxt is None:
            break
        answer = await turn_who(big, nxt["value"])
    assert seen == {str(i) for i in range(team.members)}


async def test_who_pages_refuse_a_stranger(big: Bot, team: Team) -> None:
    answer = await turn_who(big, json.dumps({"queue": BIGGEST, "page": 1}), user=STRANGER)
    assert "for members of the rotation and managers" in answer["text"]
    assert "blocks" not in answer and "Member" not in answer["text"]


# -- the calibrate modal ---------------------------------------------------------------------


async def test_calibrate_modal_at_size(big: Bot, team: Team) -> None:
    await big.post(sr.slash_command(SECRET, f"calibrate <@{member_id(7)}|m7>", user_id=MANAGER,
                                    response_url=big.slack.response_url("cal")))
    [opened] = await big.slack.wait_for("views.open")
    view = opened.body["view"]
    slack_limits.check(view, "modal")
    queue = next(b for b in view["blocks"] if b.get("block_id") == "calibrate_queue")["element"]
    assert queue["type"] == ("external_select" if team.queues > 100 else "static_select")
    assert queue["initial_option"]["value"] == BIGGEST
    if queue["type"] == "static_select":
        assert len(queue["options"]) == team.queues


# -- the example team (13 people, 7 queues): everything on one Home ---------------------------


async def test_a_small_team_is_shown_whole(bot: Bot) -> None:
    view = await open_home(bot, MANAGER)
    assert not any(e["action_id"] == "home_queue_pick" for e in elements(view))  # no picker needed
    assert button(view, "People") is not None
    standings = await bot.service.ledger.standings()
    assert len(history_ids(view)) == sum(len(q.seats) for q in standings)
    outcome = await bot.service.assignment.route({"id": "L-1", "name": "Jo Park", "country": "US"})
    assert outcome.assignee is not None
    mine = await open_home(bot, outcome.assignee.slack_id)
    lead = next(b["text"]["text"] for b in mine["blocks"] if b["type"] == "section"
                and "L-1" in b["text"]["text"])
    assert "<!date^" in lead  # each reader sees the time in their own timezone
    for words in ("who", "who emea"):
        slack_limits.check(await who(bot, words), "message")


# -- the checker itself: each limit it checks, broken once -----------------------------------


def section(text: str, **more: Any) -> JsonDict:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}, **more}


def a_button(action_id: str, text: str = "Go", value: str = "v") -> JsonDict:
    return {"type": "button", "action_id": action_id, "text": {"type": "plain_text", "text": text},
            "value": value}


def select(count: int) -> JsonDict:
    return {"type": "static_select", "action_id": "s", "placeholder": {"type": "plain_text", "text": "Pick"},
            "options": [{"text": {"type": "plain_text", "text": f"o{i}"}, "value": f"o{i}"}
                        for i in range(count)]}


BROKEN: dict[str, tuple[str, JsonDict, str]] = {
    "51 blocks in a message": ("message", {"blocks": [section("x")] * 51}, "at most 50"),
    "101 blocks in a Home": ("home", {"type": "home", "blocks": [section("x")] * 101}, "at most 100"),
    "a section of 3,001 characters": ("message", {"blocks": [section("x" * 3001)]}, "3000"),
    "11 fields": ("message", {"blocks": [{"type": "section", "fields": [
        {"type": "mrkdwn", "text": "f"}] * 11}]}, "1 to 10 fields"),
    "a field of 2,001 characters": ("message", {"blocks": [{"type": "section", "fields": [
        {"type": "mrkdwn", "text": "f" * 2001}]}]}, "2000"),
    "an empty section": ("message", {"blocks": [section("")]}, "0 characters"),
    "a block_id twice": ("message", {"blocks": [section("a", block_id="b"), section("c", block_id="b")]},
                         "used twice"),
    "an action_id twice in a block": ("message", {"blocks": [{"type": "actions", "elements": [
        a_button("same"), a_button("same")]}]}, "used twice in its block"),
    "an action_id of 256 characters": ("message", {"blocks": [{"type": "actions", "elements": [
        a_button("a" * 256)]}]}, "255"),
    "a button's text of 76 characters": ("message", {"blocks": [{"type": "actions", "elements": [
        a_button("b", text="t" * 76)]}]}, "75"),
    "a button's value of 2,001 characters": ("message", {"blocks": [{"type": "actions", "elements": [
        a_button("b", value="v" * 2001)]}]}, "2000"),
    "101 options": ("modal", {"type": "modal", "title": {"type": "plain_text", "text": "T"},
                              "blocks": [{"type": "actions", "elements": [select(101)]}]}, "1 to 100"),
    "a modal title of 25 characters": ("modal", {"type": "modal", "title": {"type": "plain_text",
                                                                              "text": "t" * 25},
                                                 "blocks": [section("x")]}, "title"),
    "26 actions": ("message", {"blocks": [{"type": "actions", "elements": [
        a_button(f"b{i}") for i in range(26)]}]}, "1 to 25 elements"),
    "a header of 151 characters": ("message", {"blocks": [{"type": "header", "text": {
        "type": "plain_text", "text": "h" * 151}}]}, "150"),
    "text of 40,001 characters": ("message", {"text": "x" * 40_001}, "40000"),
    "private_metadata of 3,001 characters": ("home", {"type": "home", "blocks": [],
                                                      "private_metadata": "m" * 3001}, "3000"),
}


@pytest.mark.parametrize("name", list(BROKEN))
def test_the_limits_checker_finds_what_slack_refuses(name: str) -> None:
    surface, payload, words = BROKEN[name]
    found = slack_limits.problems(payload, surface)
    assert found and any(words in problem for problem in found), found


def test_the_limits_checker_passes_what_slack_takes() -> None:
    good = {"text": "hi", "blocks": [section("x" * 3000, block_id="a", accessory=a_button("b")),
                                     {"type": "actions", "elements": [select(100), a_button("c")]},
                                     {"type": "context", "elements": [{"type": "mrkdwn", "text": "c"}]}]}
    assert slack_limits.problems(good, "message") == []
    assert slack_limits.options_problems({"options": []}) == []
    too_many = {"options": select(101)["options"]}
    assert slack_limits.options_problems(too_many)
