"""The people modal (App Home's People button): pick a Slack user, their queues, a weight,
and their capacity and working hours; Save adds them (or changes what the form says).

Why the same core call as `/rotation add`: one way in, one set of rules (level seats, the
config's checks); the modal only reads its fields, the profile (users.info) and shows the
core's refusals on the field they are about (response_action "errors"), nothing saved.
Past 100 queues Slack's static select cannot list them all, so the queue field becomes an
external select whose options Bolt's options handler answers, filtered by what is typed.
"""

from __future__ import annotations

import logging
import re
from enum import StrEnum
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncBoltContext
from slack_sdk.models.blocks import (
    Block,
    ContextBlock,
    ExternalDataMultiSelectElement,
    InputBlock,
    MarkdownTextObject,
    Option,
    PlainTextInputElement,
    StaticMultiSelectElement,
    UserSelectElement,
)
from slack_sdk.models.views import View
from slack_sdk.web.async_client import AsyncWebClient

from bot.routing.admin.people import KEEP, Keep, PersonChange
from bot.routing.errors import InvalidChange, NotFound, RoutingError
from bot.slack import admin_words, ids
from bot.slack.answers import Refusal, escape, failure_words
from bot.slack.deps import SlackDeps, deps
from bot.slack.people_command import profile_of

log = logging.getLogger(__name__)
STATIC_LIMIT = 100  # options in a static select
OPTION_TEXT = 75  # characters of an option's text
NOT_MANAGER = "Only managers can add people; nothing was changed."
NUMBER = re.compile(r"[0-9]{1,6}")


class Field(StrEnum):
    """The modal's blocks (and their inputs' action ids), read back from the view's state."""

    USER = "people_user"
    QUEUES = "people_queues"
    WEIGHT = "people_weight"
    CAPACITY = "people_capacity"
    HOURS = "people_hours"


# The core's InvalidChange.field -> the input that shows it.
FIELD_OF = {"member": Field.USER, "queues": Field.QUEUES, "queue": Field.QUEUES, "weight": Field.WEIGHT,
            "capacity": Field.CAPACITY, "working_hours": Field.HOURS}


def queue_option(name: str) -> Option:
    return Option(text=name[:OPTION_TEXT], value=name)


def build(queues: list[str], catch_all: str | None) -> View:
    if len(queues) <= STATIC_LIMIT:
        picker: Any = StaticMultiSelectElement(action_id=Field.QUEUES.value, placeholder="Queues",
                                               options=[queue_option(q) for q in queues])
    else:
        picker = ExternalDataMultiSelectElement(action_id=Field.QUEUES.value, min_query_length=0,
                                                placeholder="Type a queue's name")
    default = f" Left empty: {escape(catch_all)} (the catch-all rule's queue)." if catch_all else ""
    blocks: list[Block] = [
        InputBlock(block_id=Field.USER.value, label="Person",
                   element=UserSelectElement(action_id=ids.Action.PEOPLE_USER.value,
                                             placeholder="Pick someone")),
        ContextBlock(elements=[MarkdownTextObject(
            text="Name, email and timezone come from their Slack profile. They start level in each "
                 "queue: no catch-up flood, no penalty.")]),
        InputBlock(block_id=Field.QUEUES.value, label="Queues", optional=True, element=picker,
                   hint=("Someone already in a queue keeps their place there." + default)[:150]),
        InputBlock(block_id=Field.WEIGHT.value, label="Weight", optional=True,
                   element=PlainTextInputElement(action_id=Field.WEIGHT.value, max_length=32,
                                                 placeholder="2, 18% or priority 3"),
                   hint="Left empty: weight 1 (an equal share in a queue of shares)."),
        InputBlock(block_id=Field.CAPACITY.value, label="Capacity (open leads at most)", optional=True,
                   element=PlainTextInputElement(action_id=Field.CAPACITY.value, max_length=6,
                                                 placeholder="e.g. 20"),
                   hint="Left empty: unchanged (a newcomer: no limit). Write none to remove it."),
        InputBlock(block_id=Field.HOURS.value, label="Working hours", optional=True,
                   element=PlainTextInputElement(action_id=Field.HOURS.value, max_length=200,
                                                 placeholder="Mon-Fri 09:00-17:00"),
                   hint="In their timezone. Left empty: unchanged. Write none to remove them."),
    ]
    return View(type="modal", callback_id=ids.Callback.PEOPLE.value, title="Add a person",
                submit="Save", close="Cancel", blocks=blocks)


def _value(state: dict[str, Any], field: Field) -> dict[str, Any]:
    found = (state.get(field.value) or {})
    entry = next(iter(found.values()), None) if isinstance(found, dict) else None
    return entry if isinstance(entry, dict) else {}


def read(view: dict[str, Any]) -> tuple[str | None, tuple[str, ...], str | None, str | None, str | None]:
    state = ((view.get("state") or {}).get("values")) or {}
    user = _value(state, Field.USER).get("selected_user")
    picked = _value(state, Field.QUEUES).get("selected_options") or []
    queues = tuple(o["value"] for o in picked if isinstance(o, dict) and isinstance(o.get("value"), str))

    def text(field: Field) -> str | None:
        value = _value(state, field).get("value")
        return value.strip() or None if isinstance(value, str) else None

    return (user if isinstance(user, str) else None), queues, text(Field.WEIGHT), text(Field.CAPACITY), \
        text(Field.HOURS)


def limit_of(words: str | None) -> str | Keep | None:
    if words is None:
        return KEEP
    return None if words.lower() in ("none", "no", "-") else words


def capacity_of(words: str | None) -> int | Keep | None:
    given = limit_of(words)
    if given is KEEP or given is None:
        return given
    assert isinstance(given, str)
    if not NUMBER.fullmatch(given):
        raise InvalidChange(f"Capacity is a whole number of open leads, like 20 (or none); not "
                            f"{given[:40]!r}. Nothing was saved.", field="capacity")
    return int(given)


async def on_open(ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient,
                  context: AsyncBoltContext) -> None:
    await ack()
    d, user = deps(context), body["user"]["id"]
    if not await d.is_manager(client, user):
        await client.chat_postMessage(channel=user, text=NOT_MANAGER)
        return
    queues = await d.service.admin.queue_names()
    try:
        catch_all: str | None = await d.service.admin.catch_all_queue()
    except RoutingError:
        catch_all = None
    await client.views_open(trigger_id=body["trigger_id"], view=build(queues, catch_all))


async def on_queue_options(ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient,
                           context: AsyncBoltContext) -> None:
    """The external select's options: queues whose name holds what was typed, 100 at most."""
    d = deps(context)
    if not await d.is_manager(client, body["user"]["id"]):
        await ack(options=[])
        return
    typed = str(body.get("value") or "").casefold()
    names = [n for n in await d.service.admin.queue_names() if typed in n.casefold()]
    await ack(options=[queue_option(n).to_dict() for n in names[:STATIC_LIMIT]])


async def save(d: SlackDeps, client: AsyncWebClient, manager: str, view: dict[str, Any]) -> str:
    user, queues, weight, capacity, hours = read(view)
    if not user:
        raise InvalidChange("Pick the person to add.", field="member")
    profile = await profile_of(client, user, mention=False)  # a field error is plain text
    change = PersonChange(profile, queues, weight, capacity_of(capacity), limit_of(hours))
    return admin_words.person_added(await d.service.admin.add_person(change, actor=manager))


def errors_for(error: Exception) -> dict[str, str]:
    field = error.field if isinstance(error, InvalidChange) else None
    if isinstance(error, NotFound) and "queue" in str(error):
        field = "queues"
    block = FIELD_OF.get(field or "", Field.USER)
    words = admin_words.refusal(error) if isinstance(error, RoutingError) else failure_words(error)
    return {block.value: words[:2000]}


async def on_submit(ack: AsyncAck, body: dict[str, Any], view: dict[str, Any], client: AsyncWebClient,
                    context: AsyncBoltContext) -> None:
    d, manager = deps(context), body["user"]["id"]
    try:
        if not await d.is_manager(client, manager):
            await ack(response_action="errors", errors={Field.USER.value: NOT_MANAGER})
            return
        said = await save(d, client, manager, view)
    except (RoutingError, Refusal) as refused:
        await ack(response_action="errors", errors=errors_for(refused))
        return
    except Exception as error:
        await ack(response_action="errors", errors={Field.USER.value: failure_words(error)})
        return
    await ack()
    await client.chat_postMessage(channel=manager, text=said)
