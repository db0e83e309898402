"""Time off from App Home: the modal's date pickers, errors on the fields, the leave list and Cancel."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from slack_harness import SECRET, Bot, Reply, sr

START = date.today() + timedelta(days=20)
END = START + timedelta(days=3)


def home_buttons(view: dict[str, Any]) -> list[dict[str, Any]]:
    found = [e for b in view["blocks"] if b["type"] == "actions" for e in b["elements"]]
    return found + [b["accessory"] for b in view["blocks"] if b.get("accessory")]


async def submit(bot: Bot, start: str | None, end: str | None, user: str = "U01ALICE") -> Reply:
    values = {"away_start": {"away_start": sr.datepicker(start)},
              "away_end": {"away_end": sr.datepicker(end)}}
    reply = await bot.post(sr.view_submission(SECRET, "away_modal", values, user_id=user))
    assert reply.status == 200
    return reply


def errors(reply: Reply) -> dict[str, str]:
    body = reply.json()
    assert body["response_action"] == "errors"
    return dict(body["errors"])


async def test_button_opens_the_modal_with_two_datepickers(bot: Bot) -> None:
    await bot.service.availability.add_leave("U01ALICE", END + timedelta(days=10),
                                             END + timedelta(days=11), actor="t")
    await bot.post(sr.block_action(SECRET, "home_schedule_leave", "away", view={"id": "VHOME"}))
    [opened] = await bot.slack.wait_for("views.open")
    view = opened.body["view"]
    assert view["type"] == "modal" and view["callback_id"] == "away_modal"
    pickers = {b["block_id"]: b["element"] for b in view["blocks"] if b["type"] == "input"}
    kinds = {k: v["type"] for k, v in pickers.items()}
    assert kinds == {"away_start": "datepicker", "away_end": "datepicker"}
    assert pickers["away_start"]["action_id"] == "away_start" and "initial_date" in pickers["away_start"]
    text = str(view["blocks"])
    assert (END + timedelta(days=10)).isoformat() in text and "longer than 5 days" in text


async def test_submit_schedules_leave_and_republishes_home(bot: Bot) -> None:
    reply = await submit(bot, START.isoformat(), END.isoformat())
    assert reply.text == ""  # closes the modal
    [leave] = await bot.service.availability.leaves("U01ALICE")
    assert (leave.starts_on, leave.ends_on) == (START, END)
    [published] = await bot.slack.wait_for("views.publish")
    home = published.body["view"]
    assert "Time off scheduled" in str(home["blocks"])
    cancel = [b for b in home_buttons(home) if b["action_id"] == "home_cancel_leave"]
    assert [b["value"] for b in cancel] == [str(leave.id)] and cancel[0]["confirm"]


async def test_bad_dates_show_on_the_field_and_change_nothing(bot: Bot) -> None:
    assert set(errors(await submit(bot, None, None))) == {"away_start", "away_end"}
    assert "before the first day" in errors(await submit(bot, END.isoformat(), START.isoformat()))["away_end"]
    past = errors(await submit(bot, "2000-01-01", "2000-01-03"))
    assert "past" in past["away_end"]
    assert "Pick the first day" in errors(await submit(bot, "not-a-date", END.isoformat()))["away_start"]
    assert await bot.service.availability.leaves("U01ALICE") == []
    await bot.service.availability.add_leave("U01ALICE", START, END, actor="t")
    later = (START + timedelta(days=1)).isoformat(), (END + timedelta(days=5)).isoformat()
    overlap = errors(await submit(bot, *later))
    assert "overlaps" in overlap["away_start"]
    assert len(await bot.service.availability.leaves("U01ALICE")) == 1
    stranger = errors(await submit(bot, START.isoformat(), END.isoformat(), user="U99STRANGER"))
    assert "not in the lead rotation" in stranger["away_start"]
    assert bot.slack.calls_to("views.publish") == []


async def test_cancel_from_home(bot: Bot) -> None:
    leave = await bot.service.availability.add_leave("U01ALICE", START, END, actor="t")
    bob = await bot.service.availability.add_leave("U02BOB", START, END, actor="t")
    await bot.post(sr.block_action(SECRET, "home_cancel_leave", str(bob.id), view={"id": "VHOME"}))
    [refused] = await bot.slack.wait_for("views.publish")
    assert f"You have no leave #{bob.id}" in str(refused.body["view"]["blocks"])  # it is Bob's
    assert len(await bot.service.availability.leaves("U02BOB")) == 1
    await bot.post(sr.block_action(SECRET, "home_cancel_leave", "nope", view={"id": "VHOME"}))
    await bot.slack.wait_for("views.publish", 2)
    await bot.post(sr.block_action(SECRET, "home_cancel_leave", str(leave.id), view={"id": "VHOME"}))
    *_, done = await bot.slack.wait_for("views.publish", 3)
    said = f"Cancelled your time off {START.isoformat()} to {END.isoformat()}"
    assert said in str(done.body["view"]["blocks"])
    assert await bot.service.availability.leaves("U01ALICE") == []
    assert not [b for b in home_buttons(done.body["view"]) if b["action_id"] == "home_cancel_leave"]


async def test_strangers_get_no_modal(bot: Bot) -> None:
    await bot.post(sr.block_action(SECRET, "home_schedule_leave", "away", user_id="U99STRANGER",
                                   view={"id": "VHOME"}))
    [published] = await bot.slack.wait_for("views.publish")
    assert "not in the lead rotation" in str(published.body["view"]["blocks"])
    assert bot.slack.calls_to("views.open") == []
