"""Slack's documented Block Kit limits, as a checker a test can run on anything the bot sends.

Why our own: Slack refuses a view or message that breaks one of these (`invalid_blocks`) only in
production, and the fake Slack accepts anything. The numbers are those of Slack's Block Kit
reference (docs.slack.dev/reference/block-kit): blocks per message (50) and per modal or Home
view (100); section text 3,000 and fields 10 of 2,000 each; header 150; context 10 elements;
actions 25 elements; buttons' text 75 and value 2,000; a static select's 100 options of 75 /
150; overflow 5 options; action_id and block_id 255 characters, block_id unique in its view or
message, action_id unique in its block; a view's title, submit and close 24; private_metadata
3,000; a message's text 40,000; an options answer 100 options.

`problems(payload, surface)` returns every broken limit in words (`[]` when all hold), so a
failing test says what to fix; `check(...)` asserts.
"""

from __future__ import annotations

from typing import Any

JsonDict = dict[str, Any]

MAX_BLOCKS = {"message": 50, "modal": 100, "home": 100}
SECTION_TEXT, FIELD_TEXT, MAX_FIELDS = 3000, 2000, 10
HEADER_TEXT = 150
CONTEXT_ELEMENTS, ACTIONS_ELEMENTS = 10, 25
BUTTON_TEXT, BUTTON_VALUE, URL = 75, 2000, 3000
OPTION_TEXT, OPTION_VALUE, OPTION_DESCRIPTION = 75, 150, 75
MAX_OPTIONS, MAX_OVERFLOW = 100, 5
PLACEHOLDER = 150
ID_LENGTH = 255
VIEW_TITLE = 24
PRIVATE_METADATA = 3000
MESSAGE_TEXT = 40_000
LABEL, HINT = 2000, 2000
CONFIRM_TITLE, CONFIRM_TEXT, CONFIRM_BUTTON = 100, 300, 30
SELECTS = {"static_select", "external_select", "users_select", "conversations_select",
           "channels_select", "multi_static_select", "multi_external_select", "multi_users_select"}
INTERACTIVE = SELECTS | {"button", "overflow", "datepicker", "timepicker", "radio_buttons", "checkboxes",
                         "plain_text_input", "number_input", "email_text_input", "url_text_input"}


class Limits:
    """Collects the problems of one payload, each prefixed with where it is."""

    def __init__(self) -> None:
        self.found: list[str] = []

    def say(self, where: str, words: str) -> None:
        self.found.append(f"{where}: {words}")

    def length(self, where: str, text: object, limit: int, *, least: int = 1) -> None:
        if not isinstance(text, str):
            self.say(where, f"is {type(text).__name__}, not text")
        elif not least <= len(text) <= limit:
            self.say(where, f"has {len(text)} characters (Slack takes {least} to {limit})")

    def text_object(self, where: str, obj: object, limit: int, *, plain_only: bool = False) -> None:
        if not isinstance(obj, dict) or obj.get("type") not in ("plain_text", "mrkdwn"):
            self.say(where, "is not a text object")
            return
        if plain_only and obj["type"] != "plain_text":
            self.say(where, "must be plain_text")
        self.length(where, obj.get("text"), limit)

    def option(self, where: str, option: object) -> None:
        if not isinstance(option, dict):
            self.say(where, "is not an option object")
            return
        self.text_object(f"{where}.text", option.get("text"), OPTION_TEXT)
        self.length(f"{where}.value", option.get("value"), OPTION_VALUE)
        if "description" in option:
            self.text_object(f"{where}.description", option["description"], OPTION_DESCRIPTION)

    def confirm(self, where: str, confirm: JsonDict) -> None:
        self.text_object(f"{where}.title", confirm.get("title"), CONFIRM_TITLE, plain_only=True)
        self.text_object(f"{where}.text", confirm.get("text"), CONFIRM_TEXT)
        for key in ("confirm", "deny"):
            self.text_object(f"{where}.{key}", confirm.get(key), CONFIRM_BUTTON, plain_only=True)

    def element(self, where: str, element: object, action_ids: set[str]) -> None:
        if not isinstance(element, dict) or not isinstance(element.get("type"), str):
            self.say(where, "is not an element")
            return
        kind = element["type"]
        if kind in ("image", "plain_text", "mrkdwn"):
            return
        if kind not in INTERACTIVE:
            self.say(where, f"is an unknown element type {kind!r}")
            return
        action_id = element.get("action_id")
        if action_id is not None:
            self.length(f"{where}.action_id", action_id, ID_LENGTH)
            if action_id in action_ids:
                self.say(where, f"action_id {action_id!r} is used twice in its block")
            action_ids.add(str(action_id))
        if "confirm" in element:
            self.confirm(f"{where}.confirm", element["confirm"])
        if "placeholder" in element:
            self.text_object(f"{where}.placeholder", element["placeholder"], PLACEHOLDER, plain_only=True)
        if kind == "button":
            self.text_object(f"{where}.text", element.get("text"), BUTTON_TEXT, plain_only=True)
            if "value" in element:
                self.length(f"{where}.value", element["value"], BUTTON_VALUE)
            if "url" in element:
                self.length(f"{where}.url", element["url"], URL)
        elif kind in ("static_select", "multi_static_select", "radio_buttons", "checkboxes", "overflow"):
            self.options(where, element, MAX_OVERFLOW if kind == "overflow" else MAX_OPTIONS)
        elif kind in ("external_select", "multi_external_select"):
            if "options" in element:
                self.say(where, "an external select takes no options in the view (they come from "
                         "the options handler)")
            if "initial_option" in element:
                self.option(f"{where}.initial_option", element["initial_option"])

    def options(self, where: str, element: JsonDict, most: int) -> None:
        options, groups = element.get("options"), element.get("option_groups")
        if options is None and groups is None:
            self.say(where, "has neither options nor option_groups")
            return
        if options is not None:
            self.option_list(f"{where}.options", options, most)
        if groups is not None:
            if not isinstance(groups, list) or not 1 <= len(groups) <= MAX_OPTIONS:
                self.say(f"{where}.option_groups", f"must be 1 to {MAX_OPTIONS} groups")
            for g, group in enumerate(groups or []):
                self.option_list(f"{where}.option_groups[{g}].options", group.get("options"), MAX_OPTIONS)
        if "initial_option" in element:
            self.option(f"{where}.initial_option", element["initial_option"])

    def option_list(self, where: str, options: object, most: int) -> None:
        if not isinstance(options, list) or not 1 <= len(options) <= most:
            count = len(options) if isinstance(options, list) else "no list of"
            self.say(where, f"has {count} options (Slack takes 1 to {most})")
            return
        values = [o.get("value") for o in options if isinstance(o, dict)]
        if len(values) != len(set(values)):
            self.say(where, "has two options with the same value")
        for i, option in enumerate(options):
            self.option(f"{where}[{i}]", option)

    def block(self, where: str, block: object, block_ids: set[str]) -> None:
        if not isinstance(block, dict) or not isinstance(block.get("type"), str):
            self.say(where, "is not a block")
            return
        block_id = block.get("block_id")
        if block_id is not None:
            self.length(f"{where}.block_id", block_id, ID_LENGTH)
            if block_id in block_ids:
                self.say(where, f"block_id {block_id!r} is used twice")
            block_ids.add(str(block_id))
        action_ids: set[str] = set()
        kind = block["type"]
        if kind == "section":
            self.section(where, block, action_ids)
        elif kind == "header":
            self.text_object(f"{where}.text", block.get("text"), HEADER_TEXT, plain_only=True)
        elif kind == "context":
            elements = block.get("elements")
            if not isinstance(elements, list) or not 1 <= len(elements) <= CONTEXT_ELEMENTS:
                self.say(where, f"a context block takes 1 to {CONTEXT_ELEMENTS} elements")
            for i, element in enumerate(elements or []):
                if isinstance(element, dict) and element.get("type") in ("plain_text", "mrkdwn"):
                    self.text_object(f"{where}.elements[{i}]", element, SECTION_TEXT)
        elif kind == "actions":
            elements = block.get("elements")
            if not isinstance(elements, list) or not 1 <= len(elements) <= ACTIONS_ELEMENTS:
                self.say(where, f"an actions block takes 1 to {ACTIONS_ELEMENTS} elements")
            for i, element in enumerate(elements or []):
                self.element(f"{where}.elements[{i}]", element, action_ids)
        elif kind == "input":
            self.text_object(f"{where}.label", block.get("label"), LABEL, plain_only=True)
            if "hint" in block:
                self.text_object(f"{where}.hint", block["hint"], HINT, plain_only=True)
            self.element(f"{where}.element", block.get("element"), action_ids)
        elif kind not in ("divider", "image", "rich_text", "video", "file", "markdown"):
            self.say(where, f"is an unknown block type {kind!r}")

    def section(self, where: str, block: JsonDict, action_ids: set[str]) -> None:
        text, fields = block.get("text"), block.get("fields")
        if text is None and fields is None:
            self.say(where, "a section needs text or fields")
        if text is not None:
            self.text_object(f"{where}.text", text, SECTION_TEXT)
        if fields is not None:
            if not isinstance(fields, list) or not 1 <= len(fields) <= MAX_FIELDS:
                self.say(where, f"a section takes 1 to {MAX_FIELDS} fields")
            for i, field in enumerate(fields or []):
                self.text_object(f"{where}.fields[{i}]", field, FIELD_TEXT)
        if "accessory" in block:
            self.element(f"{where}.accessory", block["accessory"], action_ids)

    def blocks(self, blocks: object, surface: str) -> None:
        if not isinstance(blocks, list):
            self.say("blocks", "is not a list")
            return
        most = MAX_BLOCKS[surface]
        if len(blocks) > most:
            self.say("blocks", f"{len(blocks)} blocks (a {surface} takes at most {most})")
        block_ids: set[str] = set()
        for i, block in enumerate(blocks):
            self.block(f"blocks[{i}]", block, block_ids)


def problems(payload: JsonDict, surface: str) -> list[str]:
    """Every Slack limit `payload` breaks: a message ({text, blocks}) or a view ({type, blocks…})."""
    limits = Limits()
    if surface == "message":
        if "text" in payload and payload["text"] is not None:
            limits.length("text", payload["text"], MESSAGE_TEXT, least=0)
        if "blocks" in payload:
            limits.blocks(payload["blocks"], surface)
        elif not payload.get("text"):
            limits.say("message", "has neither text nor blocks")
        return limits.found
    if payload.get("type") != surface:
        limits.say("view", f"is of type {payload.get('type')!r}, not {surface!r}")
    limits.blocks(payload.get("blocks"), surface)
    if surface == "modal":
        limits.text_object("title", payload.get("title"), VIEW_TITLE, plain_only=True)
        for key in ("submit", "close"):
            if key in payload:
                limits.text_object(key, payload[key], VIEW_TITLE, plain_only=True)
    if "private_metadata" in payload:
        limits.length("private_metadata", payload["private_metadata"], PRIVATE_METADATA, least=0)
    if "callback_id" in payload:
        limits.length("callback_id", payload["callback_id"], ID_LENGTH)
    return limits.found


def options_problems(answer: JsonDict) -> list[str]:
    """The limits of an answer to an options request (block_suggestion): 100 options or groups."""
    limits = Limits()
    if "options" in answer:
        if answer["options"]:  # none at all is a fine answer: nothing matched what was typed
            limits.option_list("options", answer["options"], MAX_OPTIONS)
    elif "option_groups" in answer:
        limits.options("answer", answer, MAX_OPTIONS)
    else:
        limits.say("answer", "has neither options nor option_groups")
    return limits.found


def check(payload: JsonDict, surface: str) -> None:
    found = problems(payload, surface)
    assert not found, f"{len(found)} Slack limit(s) broken:\n" + "\n".join(found[:20])
