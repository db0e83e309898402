"""Attacks on the privacy rule: reading leads and queues one may not see.

The contract: `why` answers managers and the members the lead was offered to; `who` answers
members and managers; anyone else gets a refusal that names no lead data, in the same words
for a lead that does not exist, so a refusal does not even tell that a lead exists.
"""

from __future__ import annotations

import json
from typing import Any

from slack_harness import MANAGER, SECRET, Bot, sr

from bot.routing.results import RouteOutcome

STRANGER = "U99STRANGER"  # in the workspace, not in the rotation, not a manager
LEAD = {"id": "L-77", "name": "Jane Doe", "company": "Secret Widgets Ltd", "email": "jane@secret.example",
        "country": "GB"}


async def routed(bot: Bot) -> RouteOutcome:
    outcome = await bot.service.assignment.route(dict(LEAD))
    assert outcome.assignee is not None
    return outcome


def leaks(answer: str, outcome: RouteOutcome) -> list[str]:
    """The lead data found in `answer`."""
    assert outcome.assignee is not None
    secrets = ["Jane Doe", "Secret Widgets", "jane@secret", outcome.assignee.name, outcome.assignee.slack_id,
               "emea", "Rule:"]
    return [s for s in secrets if s in answer]


async def test_why_by_someone_outside_the_rotation(bot: Bot) -> None:
    """A workspace member who is neither a rep nor a manager asks why about a real lead."""
    outcome = await routed(bot)
    before = await bot.state()
    answer = await bot.command("why L-77", user=STRANGER)
    assert leaks(answer, outcome) == [] and "nothing I can show you" in answer
    assert await bot.state() == before


async def test_why_by_a_rep_the_lead_was_not_offered_to(bot: Bot) -> None:
    """A rep in another queue asks why about a colleague's lead."""
    outcome = await routed(bot)
    assert outcome.assignee is not None and outcome.assignee.slack_id != "U01ALICE"
    answer = await bot.command("why L-77", user="U01ALICE")
    assert leaks(answer, outcome) == [] and "nothing I can show you" in answer


async def test_a_refusal_does_not_tell_whether_the_lead_exists(bot: Bot) -> None:
    """Probing lead ids: the answer for a real lead and for no lead is the same but for the id."""
    await routed(bot)
    for user in (STRANGER, "U01ALICE"):
        real = await bot.command("why L-77", user=user)
        missing = await bot.command("why L-78", user=user)
        assert real.replace("L-77", "L-78") == missing


async def test_why_answers_every_rep_it_was_offered_to_and_managers(bot: Bot) -> None:
    """After a Pass, the first rep may still ask; so may the next one, and a manager."""
    first = await routed(bot)
    assert first.assignee is not None and first.assignment_id is not None
    change = await bot.service.assignment.pass_lead(first.assignment_id, actor=first.assignee.slack_id)
    assert change.next_outcome is not None and change.next_outcome.assignee is not None
    second = change.next_outcome.assignee.slack_id
    for user in (first.assignee.slack_id, second, MANAGER):
        answer = await bot.command("why L-77", user=user)
        assert "Lead L-77" in answer and "Jane Doe" in answer, user


async def test_who_by_someone_outside_the_rotation(bot: Bot) -> None:
    """A stranger asks for every queue, a named one, and one that does not exist."""
    await routed(bot)
    asked = ("who", "who emea", "who EMEA", "who mars")
    answers = {await bot.command(words, user=STRANGER) for words in asked}
    assert len(answers) == 1  # one refusal: it does not even say which queues exist
    [answer] = answers
    assert "for members of the rotation and managers" in answer
    for secret in ("emea", "us-east", "Alice", "Grace", "lead(s)", "mars"):
        assert secret not in answer


async def test_who_still_answers_members_and_managers(bot: Bot) -> None:
    """The rule refuses strangers only."""
    assert "*emea*" in await bot.command("who emea", user="U01ALICE")
    assert "*emea*" in await bot.command("who emea", user=MANAGER)


async def open_home(bot: Bot, user: str) -> dict[str, Any]:
    before = len(bot.slack.calls_to("views.publish"))
    event = {"type": "app_home_opened", "user": user, "channel": f"D{user}", "tab": "home",
             "event_ts": "1700000000.000100"}
    assert (await bot.post(sr.event_callback(SECRET, event, event_id=f"EvHome{user}"))).status == 200
    published = await bot.slack.wait_for("views.publish", before + 1)
    return dict(published[before].body["view"])


async def test_app_home_of_someone_outside_the_rotation(bot: Bot) -> None:
    """A stranger opens the app's Home tab: nothing of anyone's leads or standings."""
    outcome = await routed(bot)
    view = json.dumps(await open_home(bot, STRANGER))
    assert leaks(view, outcome) == [] and "L-77" not in view
    assert "Team standings" not in view and "Alice" not in view and "not in the lead rotation" in view


async def test_app_home_of_a_rep_shows_only_their_own_leads(bot: Bot) -> None:
    """A rep's Home lists their own leads, never a colleague's."""
    outcome = await routed(bot)
    assert outcome.assignee is not None
    other = "U01ALICE" if outcome.assignee.slack_id != "U01ALICE" else "U02BOB"
    theirs = json.dumps(await open_home(bot, other))
    assert "L-77" not in theirs and "Jane Doe" not in theirs and "Team standings" not in theirs
    mine = json.dumps(await open_home(bot, outcome.assignee.slack_id))
    assert "L-77" in mine and "Jane Doe" in mine


async def test_a_forwarded_lead_button_does_not_say_whose_lead_it_is(bot: Bot) -> None:
    """A stranger clicks Accept on a forwarded DM: refused, the owner unnamed, the lead unchanged."""
    outcome = await routed(bot)
    await bot.post(sr.block_action(SECRET, "lead_accept", f"{outcome.assignment_id}:L-77", user_id=STRANGER,
                                   message={"ts": "1.2"}, response_url=bot.slack.response_url()))
    [answer] = await bot.slack.wait_for_responses()
    assert leaks(answer["text"], outcome) == [] and "Only the person" in answer["text"]
    [step] = (await bot.service.assignment.lead("L-77")).assignments
    assert step["state"] == "offered"
