"""App Home: a member's status with Pause/Resume, and every queue's standings for managers."""

from __future__ import annotations

from typing import Any

from slack_harness import MANAGER, SECRET, Bot, sr


def buttons(view: dict[str, Any]) -> list[dict[str, Any]]:
    found = [e for b in view["blocks"] if b["type"] == "actions" for e in b["elements"]]
    return found + [b["accessory"] for b in view["blocks"] if b.get("accessory")]


async def open_home(bot: Bot, user: str, event_id: str, count: int = 1) -> dict[str, Any]:
    event = {"type": "app_home_opened", "user": user, "channel": f"D{user}", "tab": "home",
             "event_ts": "1700000000.000100"}
    reply = await bot.post(sr.event_callback(SECRET, event, event_id=event_id))
    assert reply.status == 200
    calls = await bot.slack.wait_for("views.publish", count)
    assert calls[-1].body["user_id"] == user
    return calls[-1].body["view"]


async def test_member_home_has_status_and_pause(bot: Bot) -> None:
    await bot.service.assignment.route({"id": "L-9", "name": "Jo Park", "country": "US", "state": "NY",
                             "employees": 200, "source": "web"})
    view = await open_home(bot, "U01ALICE", "Ev1")
    assert view["type"] == "home"
    assert [b["action_id"] for b in buttons(view)] == ["home_pause", "home_schedule_leave"]
    text = str(view["blocks"])
    assert "Alice Moreau" in text and "us-east" in text and "Team standings" not in text


async def test_pause_and_resume_buttons_republish(bot: Bot) -> None:
    await bot.post(sr.block_action(SECRET, "home_pause", "pause", view={"id": "VHOME"}))
    [call] = await bot.slack.wait_for("views.publish")
    assert (await bot.service.availability.member_status("U01ALICE")).state == "paused"
    assert [b["action_id"] for b in buttons(call.body["view"])] == ["home_resume", "home_schedule_leave"]
    assert "You're paused" in str(call.body["view"]["blocks"])
    await bot.post(sr.block_action(SECRET, "home_resume", "resume", view={"id": "VHOME"}))
    await bot.slack.wait_for("views.publish", 2)
    assert (await bot.service.availability.member_status("U01ALICE")).state == "active"


async def test_manager_home_has_standings_and_calibrate_buttons(bot: Bot) -> None:
    view = await open_home(bot, MANAGER, "Ev2")
    assert len(view["blocks"]) <= 100
    text = str(view["blocks"])
    assert "Team standings" in text and "not in the lead rotation" in text
    for queue in await bot.service.admin.queue_names():
        assert f"*{queue}*" in text
    calibrate = [b for b in buttons(view) if b["action_id"] == "home_calibrate"]
    assert len(calibrate) == sum(len(q.seats) for q in await bot.service.ledger.standings())
    await bot.post(sr.block_action(SECRET, "home_calibrate", calibrate[0]["value"], user_id=MANAGER,
                                   view={"id": "VHOME"}))
    [opened] = await bot.slack.wait_for("views.open")
    member = next(b for b in opened.body["view"]["blocks"] if b.get("block_id") == "calibrate_member")
    assert member["element"]["initial_user"] == "U01ALICE"


async def test_retried_event_is_handled_once(bot: Bot) -> None:
    await open_home(bot, "U01ALICE", "EvSame")
    reply = await bot.post(sr.event_callback(SECRET, {"type": "app_home_opened", "user": "U01ALICE",
                                                      "tab": "home"}, event_id="EvSame", retry_num=1))
    assert reply.status == 200
    await open_home(bot, "U01ALICE", "EvOther", count=2)  # a new id is handled...
    assert len(bot.slack.calls_to("views.publish")) == 2  # ...the retry was not


async def test_user_change_is_acked(bot: Bot) -> None:
    event = sr.user_change_event("U01ALICE", status_text="Vacationing", status_emoji=":palm_tree:")
    reply = await bot.post(sr.event_callback(SECRET, event, event_id="EvStatus"))
    assert reply.status == 200
    again = await bot.post(sr.event_callback(SECRET, event, event_id="EvStatus", retry_num=1))
    assert again.status == 200
