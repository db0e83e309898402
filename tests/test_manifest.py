"""Checks of app_manifest.yaml: Slack's schema v1 rules, and scopes vs. code.

Why: Slack rejects a bad manifest only when someone pastes it into the app
settings, and a missing scope shows up only in production as a
``missing_scope`` error on the first lead. So this test reads the manifest
against the limits of Slack's published schema (github.com/slackapi/
manifest-schema, schemas/manifest.schema.1.0.0.json) and scans ``bot/`` for
every Web API method, slash command and event the code uses.

Method discovery (with ``ast``, so comments and docstrings don't count):
calls of slack_sdk client methods (``client.chat_postMessage(...)``; the
name-to-method table is read from slack_sdk's own ``api_call("...")`` lines,
and a helper such as ``files_upload_v2`` counts as every method it calls),
Bolt's ``say(...)`` (chat.postMessage), whatever ``api_call("...")`` or a
``"method"`` key/keyword names (``{"method": "chat.postMessage"}`` in an outbox
row; unknown names count, so typos fail), and any other string literal that is
exactly a real slack_sdk method, dotted or as the client attribute
(``getattr(client, "chat_postMessage")``).

The other way round, every scope the manifest asks for must be needed: by a method
the code calls, an event it subscribes to, or one of the few uses no method
names (EXTRA_SCOPES: the slash command, posting to channels the bot is not in,
reading emails from profiles). A scope nothing uses fails the test: an app
should ask a workspace for no more than it needs.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import slack_sdk.web.async_client
import yaml

ROOT = Path(__file__).resolve().parent.parent
MANIFEST = ROOT / "app_manifest.yaml"

# Web API method -> bot scopes, any one of which allows it; () needs none.
# An unknown method found in bot/ fails test_bot_scopes_cover_the_code: add it here.
METHOD_SCOPES: dict[str, tuple[str, ...]] = {
    "api.test": (),
    "auth.test": (),
    "apps.connections.open": (),  # app-level token (connections:write), not a bot scope
    "chat.postMessage": ("chat:write",),
    "chat.update": ("chat:write",),
    "chat.postEphemeral": ("chat:write",),
    "chat.delete": ("chat:write",),
    "chat.scheduleMessage": ("chat:write",),
    "chat.getPermalink": (),
    "conversations.open": ("im:write", "mpim:write"),
    "conversations.history": ("channels:history", "groups:history", "im:history", "mpim:history"),
    "files.getUploadURLExternal": ("files:write",),
    "files.completeUploadExternal": ("files:write",),
    # a workflow step ends with the token Slack hands it in function_executed: no bot scope
    "functions.completeSuccess": (),
    "functions.completeError": (),
    "conversations.info": ("channels:read", "groups:read", "im:read", "mpim:read"),
    "conversations.members": ("channels:read", "groups:read", "im:read", "mpim:read"),
    "conversations.list": ("channels:read", "groups:read", "im:read", "mpim:read"),
    "users.info": ("users:read",),
    "users.list": ("users:read",),
    "users.getPresence": ("users:read",),
    "users.lookupByEmail": ("users:read.email",),
    "users.profile.get": ("users.profile:read",),
    "usergroups.list": ("usergroups:read",),
    "usergroups.users.list": ("usergroups:read",),
    "team.info": ("team:read",),
    "reactions.add": ("reactions:write",),
    "views.open": (),
    "views.push": (),
    "views.update": (),
    "views.publish": (),
}

# Events API bot events -> scopes (any one of which) needed to receive them.
EVENT_SCOPES: dict[str, tuple[str, ...]] = {
    "app_home_opened": (),
    "app_uninstalled": (),
    "tokens_revoked": (),
    "app_rate_limited": (),
    "app_mention": ("app_mentions:read",),
    # user_change carries profile.status_*; the three below are real, newer
    # events fired at the same moment as user_change (subscribe to one kind).
    "user_change": ("users:read",),
    "user_status_changed": ("users:read",),
    "user_profile_changed": ("users:read",),
    "user_huddle_changed": ("users:read",),
    "team_join": ("users:read",),
    "subteam_created": ("usergroups:read",),
    "subteam_updated": ("usergroups:read",),
    "subteam_members_changed": ("usergroups:read",),
    "member_joined_channel": ("channels:read", "groups:read"),
    "member_left_channel": ("channels:read", "groups:read"),
    "channel_archive": ("channels:read",),
    "channel_deleted": ("channels:read",),
    "channel_rename": ("channels:read",),
    "group_archive": ("groups:read",),
    "group_deleted": ("groups:read",),
    "group_rename": ("groups:read",),
    "message.im": ("im:history",),
    "message.channels": ("channels:history",),
    "message.groups": ("groups:history",),
    "message.mpim": ("mpim:history",),
    "reaction_added": ("reactions:read",),
    "dnd_updated_user": ("dnd:read",),
    "function_executed": (),  # sent for the app's own Workflow Builder steps
}

# Keys Slack's schema v1 allows (it sets additionalProperties: false everywhere).
ALLOWED_KEYS: dict[str, set[str]] = {
    "": {"_metadata", "display_information", "features", "oauth_config", "settings", "functions"},
    "display_information": {"name", "description", "background_color", "long_description"},
    "features": {"app_home", "bot_user", "shortcuts", "slash_commands", "unfurl_domains"},
    "features.app_home": {
        "home_tab_enabled",
        "messages_tab_enabled",
        "messages_tab_read_only_enabled",
    },
    "features.bot_user": {"display_name", "always_online"},
    "oauth_config": {"redirect_urls", "scopes", "token_management_enabled"},
    "oauth_config.scopes": {"bot", "user"},
    "settings": {
        "allowed_ip_address_ranges",
        "event_subscriptions",
        "incoming_webhooks",
        "interactivity",
        "org_deploy_enabled",
        "socket_mode_enabled",
        "token_rotation_enabled",
        "function_runtime",
    },
    "settings.event_subscriptions": {"request_url", "bot_events", "user_events"},
    "settings.interactivity": {"is_enabled", "request_url", "message_menu_options_url"},
}
SLASH_COMMAND_KEYS = {"command", "url", "description", "usage_hint", "should_escape"}
URL = re.compile(r"^https?://\S+$")
DOTTED_METHOD = re.compile(r"^[a-z]+(\.[a-zA-Z]+)+$")


# -- discovery -----------------------------------------------------------------


@cache
def _sdk_functions() -> list[ast.AsyncFunctionDef]:
    source = Path(slack_sdk.web.async_client.__file__).read_text()
    return [node for node in ast.walk(ast.parse(source)) if isinstance(node, ast.AsyncFunctionDef)]


@cache
def sdk_composites() -> dict[str, tuple[str, ...]]:
    """slack_sdk helpers that call other client methods instead of one api_call
    (``files_upload_v2``: getUploadURLExternal, then completeUploadExternal)."""
    attrs = sdk_methods()
    found: dict[str, tuple[str, ...]] = {}
    for node in _sdk_functions():
        if node.name in attrs:
            continue
        called = sorted({attrs[c.func.attr] for c in ast.walk(node) if isinstance(c, ast.Call)
                         and isinstance(c.func, ast.Attribute) and isinstance(c.func.value, ast.Name)
                         and c.func.value.id == "self" and c.func.attr in attrs})
        if called:
            found[node.name] = tuple(called)
    return found


@cache
def sdk_methods() -> dict[str, str]:
    """slack_sdk client attribute -> Web API method, read from slack_sdk's source."""
    found: dict[str, str] = {}
    for node in _sdk_functions():
        for call in ast.walk(node):
            if (
                isinstance(call, ast.Call)
                and isinstance(call.func, ast.Attribute)
                and call.func.attr == "api_call"
                and call.args
                and isinstance(call.args[0], ast.Constant)
                and isinstance(call.args[0].value, str)
            ):
                found[node.name] = call.args[0].value
                break
    return found


def _call_name(node: ast.Call) -> str | None:
    if isinstance(node.func, ast.Attribute):
        return node.func.attr
    if isinstance(node.func, ast.Name):
        return node.func.id
    return None


def methods_in_source(source: str) -> list[tuple[str, int]]:
    """(Web API method, line) for every method the source calls or names."""
    attrs = sdk_methods()
    real_methods = set(attrs.values())
    found: list[tuple[str, int]] = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Call):
            name = _call_name(node)
            if isinstance(node.func, ast.Attribute) and name in attrs:
                found.append((attrs[name], node.lineno))
            elif isinstance(node.func, ast.Attribute) and name in sdk_composites():
                found += [(method, node.lineno) for method in sdk_composites()[name]]
            elif name == "say":  # Bolt's say() is chat.postMessage
                found.append(("chat.postMessage", node.lineno))
            elif name == "api_call" and (arg := _first_str_arg(node)) is not None:
                found.append((arg, node.lineno))  # whatever it names, even unknown
        elif isinstance(node, ast.Dict | ast.keyword):
            # {"method": "x.y"} or method="x.y", e.g. an outbox row; "POST" is not one.
            pairs = (
                zip(node.keys, node.values, strict=True)
                if isinstance(node, ast.Dict)
                else [(ast.Constant(node.arg), node.value)]
            )
            for key, value in pairs:
                text = value.value if isinstance(value, ast.Constant) else None
                if _is_str(key, "method") and DOTTED_METHOD.match(str(text)):
                    found.append((str(text), value.lineno))
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            text = node.value
            if text in attrs:
                found.append((attrs[text], node.lineno))
            elif text in real_methods:  # "users.csv" or "team.name" are not methods
                found.append((text, node.lineno))
    return sorted(set(found))


def _is_str(node: ast.AST | None, value: str) -> bool:
    return isinstance(node, ast.Constant) and node.value == value


def _first_str_arg(node: ast.Call) -> str | None:
    if node.args and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str):
        return node.args[0].value
    return _id_named(node.args[0]) if node.args else None


def _id_named(node: ast.AST) -> str | None:
    """The string behind `Command.ROTATION.value` (or `ids.Callback.ROUTE_LEAD.value`): the
    code names its commands and callbacks from bot/slack/ids.py, not as literals."""
    from bot.slack import ids

    if not (isinstance(node, ast.Attribute) and node.attr == "value"
            and isinstance(node.value, ast.Attribute)):
        return None
    member, holder = node.value.attr, node.value.value
    enum_name = (holder.attr if isinstance(holder, ast.Attribute)
                 else holder.id if isinstance(holder, ast.Name) else "")
    enum = getattr(ids, enum_name, None)
    found = getattr(enum, member, None) if isinstance(enum, type) else None
    return str(found.value) if found is not None else None


def listeners_in_source(source: str) -> tuple[set[str], set[str]]:
    """(slash commands, event types) the source registers with Bolt; a workflow step
    (`app.function`) counts as the function_executed event it is sent as."""
    commands: set[str] = set()
    events: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        table = _listeners_table(node)  # bot/slack/listeners.py: COMMANDS, EVENTS, FUNCTIONS
        if table is not None:
            name, keys = table
            if name == "COMMANDS":
                commands.update(keys)
            elif name == "EVENTS":
                events.update(keys)
            elif name == "FUNCTIONS" and keys:
                events.add("function_executed")
            continue
        if not isinstance(node, ast.Call) or not isinstance(node.func, ast.Attribute):
            continue
        arg = _first_str_arg(node)
        if arg is None:
            continue
        if node.func.attr == "command" and arg.startswith("/"):
            commands.add(arg)
        elif node.func.attr == "event" and re.fullmatch(r"[a-z_]+(\.[a-z_]+)?", arg):
            events.add(arg)
        elif node.func.attr == "function" and arg:
            events.add("function_executed")
    return commands, events


def _listeners_table(node: ast.AST) -> tuple[str, set[str]] | None:
    """A `NAME: dict[...] = {key: handler, ...}` table of listeners, its keys as Slack sees them
    (`Command.ROTATION` read through bot.slack.ids), or None for any other node."""
    if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
        name, value = node.target.id, node.value
    elif isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
        name, value = node.targets[0].id, node.value
    else:
        return None
    if name not in ("COMMANDS", "EVENTS", "FUNCTIONS") or not isinstance(value, ast.Dict):
        return None
    from bot.slack import ids

    keys: set[str] = set()
    for key in value.keys:
        if isinstance(key, ast.Constant) and isinstance(key.value, str):
            keys.add(key.value)
        elif isinstance(key, ast.Attribute) and isinstance(key.value, ast.Name):
            keys.add(str(getattr(getattr(ids, key.value.id), key.attr).value))
    return name, keys


def scope_problems(methods: dict[str, list[str]], scopes: set[str]) -> list[str]:
    """Why ``scopes`` don't allow ``methods`` ({method: [where used]}); [] when they do."""
    problems: list[str] = []
    for method, where in sorted(methods.items()):
        if method not in METHOD_SCOPES:
            problems.append(
                f"{method} (used at {', '.join(where)}) is not in METHOD_SCOPES in "
                f"tests/test_manifest.py: add it to the table with the scopes it needs"
            )
            continue
        needed = METHOD_SCOPES[method]
        if needed and not scopes & set(needed):
            problems.append(
                f"{method} (used at {', '.join(where)}) needs one of {list(needed)} "
                f"in oauth_config.scopes.bot of app_manifest.yaml"
            )
    return problems


# Scopes that no Web API method names but the code needs; each is found in the code by its use.
EXTRA_SCOPES: dict[str, str] = {
    "commands": "a slash command the code registers (app.command)",
    "chat:write.public": "chat.postMessage to a queue's channel, which the bot need not be in",
    "users:read.email": "an email read from a users.info profile (without it Slack leaves it out)",
}


def extra_scope_uses(root: Path = ROOT) -> dict[str, list[str]]:
    """{scope: [where]} for the EXTRA_SCOPES uses found in root/bot/."""
    uses: dict[str, list[str]] = {}
    for path, source in bot_sources(root):
        commands, _ = listeners_in_source(source)
        methods = {m for m, _ in methods_in_source(source)}
        if commands:
            uses.setdefault("commands", []).append(path)
        if "chat.postMessage" in methods:
            uses.setdefault("chat:write.public", []).append(path)
        if "users.info" in methods and _reads_key(source, "email"):
            uses.setdefault("users:read.email", []).append(path)
    return uses


def _reads_key(source: str, key: str) -> bool:
    """Whether the source reads `key` from a mapping: x["email"] or x.get("email")."""
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Subscript) and _is_str(node.slice, key):
            return True
        if isinstance(node, ast.Call) and _call_name(node) == "get" and node.args \
                and _is_str(node.args[0], key):
            return True
    return False


def unused_scopes(scopes: set[str], methods: dict[str, list[str]], events: set[str],
                  extras: dict[str, list[str]]) -> list[str]:
    """Why each requested scope nothing needs is there for nothing; [] when all are needed."""
    needed = set(extras)
    for method in methods:
        needed |= set(METHOD_SCOPES.get(method, ()))
    for event in events:
        needed |= set(EVENT_SCOPES.get(event, ()))
    return [f"{scope} is requested in app_manifest.yaml, but no method the code calls, no event it "
            f"subscribes to and no use in EXTRA_SCOPES needs it: drop it"
            for scope in sorted(scopes - needed)]


def bot_sources(root: Path = ROOT) -> Iterator[tuple[str, str]]:
    """(path relative to ``root``, text) of every .py file under root/bot/, if any."""
    bot_dir = root / "bot"
    if bot_dir.is_dir():
        for path in sorted(bot_dir.rglob("*.py")):
            yield str(path.relative_to(root)), path.read_text()


def methods_used(root: Path = ROOT) -> dict[str, list[str]]:
    """{Web API method: ["bot/file.py:line", ...]} over all of root/bot/."""
    used: dict[str, list[str]] = {}
    for path, source in bot_sources(root):
        try:
            found = methods_in_source(source)
        except SyntaxError as exc:
            pytest.fail(f"{path} does not parse: {exc}")
        for method, line in found:
            used.setdefault(method, []).append(f"{path}:{line}")
    return used


# -- the manifest ----------------------------------------------------------------


@pytest.fixture(scope="module")
def manifest() -> dict[str, Any]:
    data = yaml.safe_load(MANIFEST.read_text())
    assert isinstance(data, dict), "app_manifest.yaml must be a mapping"
    return data


def _section(manifest: dict[str, Any], dotted: str) -> dict[str, Any]:
    node: Any = manifest
    for part in filter(None, dotted.split(".")):
        node = node.get(part, {})
    assert isinstance(node, dict), f"{dotted} must be a mapping"
    return node


def _bot_scopes(manifest: dict[str, Any]) -> set[str]:
    return set(_section(manifest, "oauth_config.scopes").get("bot", []))


def test_schema_version_and_known_keys(manifest: dict[str, Any]) -> None:
    assert manifest["_metadata"] == {"major_version": 1, "minor_version": 1}
    for dotted, allowed in ALLOWED_KEYS.items():
        unknown = set(_section(manifest, dotted)) - allowed
        assert not unknown, f"unknown keys under {dotted or 'the top level'}: {sorted(unknown)}"


def test_display_information(manifest: dict[str, Any]) -> None:
    info = manifest["display_information"]
    assert 1 <= len(info.get("name", "")) <= 35
    if "description" in info:
        assert 1 <= len(info["description"]) <= 140
    if "long_description" in info:
        assert 175 <= len(info["long_description"]) <= 4000
    if "background_color" in info:
        assert re.fullmatch(r"#[0-9a-fA-F]{3}([0-9a-fA-F]{3})?", info["background_color"])


def test_bot_user_and_app_home(manifest: dict[str, Any]) -> None:
    bot_user = manifest["features"]["bot_user"]
    assert 1 <= len(bot_user.get("display_name", "")) <= 80
    home = manifest["features"]["app_home"]
    assert home["home_tab_enabled"] is True
    assert home["messages_tab_enabled"] is True


def test_slash_commands(manifest: dict[str, Any]) -> None:
    commands = manifest["features"].get("slash_commands", [])
    assert 1 <= len(commands) <= 50
    socket_mode = manifest["settings"].get("socket_mode_enabled", False)
    for command in commands:
        assert set(command) <= SLASH_COMMAND_KEYS, command
        name = command["command"]
        assert name.startswith("/") and 2 <= len(name) <= 32, name
        assert 1 <= len(command.get("description", "")) <= 2000, name
        if "usage_hint" in command:
            assert 1 <= len(command["usage_hint"]) <= 1000, name
        if "url" in command or not socket_mode:
            assert URL.match(command.get("url", "")) and len(command["url"]) <= 3000, name
    rotation = next(c for c in commands if c["command"] == "/rotation")
    # Escaping turns "@bob" into "<@U123|bob>", which calibrate relies on.
    assert rotation["should_escape"] is True
    assert "commands" in _bot_scopes(manifest)


def test_settings(manifest: dict[str, Any]) -> None:
    settings = manifest["settings"]
    assert settings["interactivity"]["is_enabled"] is True
    for key in ("org_deploy_enabled", "socket_mode_enabled", "token_rotation_enabled"):
        assert isinstance(settings.get(key, False), bool), key
    for section in ("interactivity", "event_subscriptions"):
        url = settings.get(section, {}).get("request_url")
        if url is not None or not settings.get("socket_mode_enabled", False):
            assert url and URL.match(url) and len(url) <= 3500, section


def test_events_are_real_and_scoped(manifest: dict[str, Any]) -> None:
    events = _section(manifest, "settings.event_subscriptions").get("bot_events", [])
    assert len(events) == len(set(events)) <= 100, "bot_events must be unique, at most 100"
    scopes = _bot_scopes(manifest)
    for event in events:
        assert event in EVENT_SCOPES, (
            f"{event!r} is not a known bot event; if it is real, add it to EVENT_SCOPES"
        )
        needed = EVENT_SCOPES[event]
        assert not needed or scopes & set(needed), f"{event} needs one of {list(needed)}"
    assert "app_home_opened" in events  # the Home tab is enabled


def test_scopes_are_well_formed(manifest: dict[str, Any]) -> None:
    bot = _section(manifest, "oauth_config.scopes").get("bot", [])
    assert len(bot) == len(set(bot)) <= 255
    for scope in bot:
        assert re.fullmatch(r"[a-z_]+(\.[a-z_]+)*(:[a-z_.]+)?", scope) and len(scope) <= 50, scope
    if "users:read.email" in bot:  # Slack only grants it together with users:read
        assert "users:read" in bot


# -- the code against the manifest -------------------------------------------------


def test_bot_scopes_cover_the_code(manifest: dict[str, Any]) -> None:
    problems = scope_problems(methods_used(), _bot_scopes(manifest))
    assert not problems, "\n".join(problems)


def test_every_requested_scope_is_used(manifest: dict[str, Any]) -> None:
    events = set(_section(manifest, "settings.event_subscriptions").get("bot_events", []))
    problems = unused_scopes(_bot_scopes(manifest), methods_used(), events, extra_scope_uses())
    assert not problems, "\n".join(problems)


def test_the_workflow_step_is_declared_as_the_code_runs_it(manifest: dict[str, Any]) -> None:
    """The manifest's `route_lead` takes the inputs the listener reads and gives the outputs it
    completes with; Slack sends function_executed, and custom steps need an org-ready app."""
    from bot.routing.results import MemberRef, RouteOutcome
    from bot.slack import ids, workflow_step

    step = manifest["functions"][ids.Callback.ROUTE_LEAD.value]
    assert step["title"] == "Route a lead" and 1 <= len(step["description"]) <= 1000
    inputs, outputs = step["input_parameters"], step["output_parameters"]
    assert set(inputs) == set(workflow_step.INPUTS)
    assert [name for name, spec in inputs.items() if spec.get("is_required")] == ["lead_id"]
    outcome = RouteOutcome(lead_id="L-1", created=True, status="assigned", queue="emea", rule="EMEA",
                           assignee=MemberRef("U01ALICE", "Alice"), explanation={"summary": "why"})
    assert set(workflow_step.outputs(outcome)) == set(outputs)
    assert outputs["assignee_id"]["type"] == "slack#/types/user_id"
    for name, spec in {**inputs, **outputs}.items():
        assert spec["name"] == name and spec["type"] in ("string", "slack#/types/user_id"), name
        assert 1 <= len(spec["title"]) <= 100 and spec.get("description"), name
    assert "function_executed" in manifest["settings"]["event_subscriptions"]["bot_events"]
    assert manifest["settings"]["org_deploy_enabled"] is True
    assert manifest["settings"]["function_runtime"] == "remote"


def test_external_selects_have_somewhere_to_ask(manifest: dict[str, Any]) -> None:
    """The code answers options requests (app.options: external selects past 100 queues), so
    the manifest names the URL Slack asks; over HTTP it is the events URL, like the others."""
    asks = [path for path, source in bot_sources() for node in ast.walk(ast.parse(source))
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
            and node.func.attr == "options" and isinstance(node.func.value, ast.Name)
            and node.func.value.id == "app"]
    assert asks, "no app.options listener found: drop message_menu_options_url"
    interactivity = manifest["settings"]["interactivity"]
    assert interactivity["message_menu_options_url"] == interactivity["request_url"]


def test_manifest_declares_the_commands_and_events_the_code_handles(
    manifest: dict[str, Any],
) -> None:
    declared_commands = {c["command"] for c in manifest["features"].get("slash_commands", [])}
    declared_events = set(_section(manifest, "settings.event_subscriptions").get("bot_events", []))
    for path, source in bot_sources():
        try:
            commands, events = listeners_in_source(source)
        except SyntaxError as exc:
            pytest.fail(f"{path} does not parse: {exc}")
        assert commands <= declared_commands, f"{path} handles undeclared {commands}"
        for event in events:
            if event == "message":  # Bolt's "message" covers the message.* subscriptions
                assert any(e.startswith("message.") for e in declared_events), path
            else:
                assert event in declared_events, f"{path} handles {event}, not subscribed"


# -- the discovery itself, so the checks above can fail ----------------------------

SAMPLE = '''
"""Docstring mentioning chat.postMessage does not count."""
# nor does a comment: client.users_info(user=u)
async def notify(client, say, lead):
    await client.chat_postMessage(channel=lead.owner, text="new lead")
    await client.views_open(
        trigger_id=t, view=v)
    await app.client.api_call("chat.update", json={})
    row = {"method": "usergroups.users.list", "args": {}}
    await outbox.add(method="users.lookupByEmail", http={"method": "POST"})
    send = getattr(client, "conversations_open")
    await say("hi")
    await helper.compute_weights(x)      # not a Slack method
    path = "users.csv"                   # not a Slack method either
    await client.api_call("made.upMethod")

@app.command("/rotation")
async def rotation(ack): ...

app.event("user_change")(on_user_change)
app.command(Command.ROTATION.value)(on_rotation)
app.function(ids.Callback.ROUTE_LEAD.value)(on_route_lead)
'''


def test_discovery_finds_every_form_of_call() -> None:
    found = methods_in_source(SAMPLE)
    assert sorted({m for m, _ in found}) == [
        "chat.postMessage",
        "chat.update",
        "conversations.open",
        "made.upMethod",
        "usergroups.users.list",
        "users.lookupByEmail",
        "views.open",
    ]
    assert ("chat.postMessage", 5) in found and ("chat.postMessage", 12) in found
    assert listeners_in_source(SAMPLE) == ({"/rotation"}, {"user_change", "function_executed"})
    assert sdk_methods()["users_lookupByEmail"] == "users.lookupByEmail"


def test_scope_check_reports_missing_scopes_and_unknown_methods() -> None:
    used = {"chat.postMessage": ["bot/x.py:3"], "views.open": ["bot/x.py:4"]}
    assert scope_problems(used, {"chat:write"}) == []
    [missing] = scope_problems(used, {"users:read"})
    assert "chat.postMessage" in missing and "chat:write" in missing and "bot/x.py:3" in missing
    [unknown] = scope_problems({"made.upMethod": ["bot/y.py:9"]}, {"chat:write"})
    assert "METHOD_SCOPES" in unknown and "add it to the table" in unknown


def test_the_scope_table_names_real_methods() -> None:
    real = set(sdk_methods().values())
    assert set(METHOD_SCOPES) <= real, set(METHOD_SCOPES) - real


def test_a_scope_nothing_uses_is_reported(tmp_path: Path) -> None:
    (tmp_path / "bot").mkdir()
    (tmp_path / "bot" / "home.py").write_text(
        "async def show(client, u):\n    await client.views_publish(user_id=u, view={})\n"
        "    who = await client.users_info(user=u)\n    return who['user']['profile'].get('email')\n")
    used = methods_used(tmp_path)
    extras = extra_scope_uses(tmp_path)
    assert extras == {"users:read.email": ["bot/home.py"]}
    asked = {"users:read", "users:read.email", "channels:read", "chat:write"}
    problems = unused_scopes(asked, used, {"app_home_opened"}, extras)
    assert [p.split()[0] for p in problems] == ["channels:read", "chat:write"]
    assert unused_scopes({"im:history"}, {}, {"message.im"}, {}) == []
    assert sdk_composites()["files_upload_v2"] == ("files.completeUploadExternal",
                                                   "files.getUploadURLExternal")


def test_the_scan_walks_a_bot_tree(tmp_path: Path) -> None:
    (tmp_path / "bot" / "slack").mkdir(parents=True)
    (tmp_path / "bot" / "slack" / "people.py").write_text(
        "async def email(client, e):\n    return await client.users_lookupByEmail(email=e)\n"
    )
    used = methods_used(tmp_path)
    assert used == {"users.lookupByEmail": ["bot/slack/people.py:2"]}
    [problem] = scope_problems(used, {"users:read"})
    assert "users:read.email" in problem
    assert methods_used(tmp_path / "nowhere") == {}


def test_the_listeners_table_counts_as_registering() -> None:
    source = (ROOT / "bot" / "slack" / "listeners.py").read_text(encoding="utf-8")
    commands, events = listeners_in_source(source)
    assert commands == {"/rotation"}
    assert {"app_home_opened", "message", "user_change", "function_executed"} <= events
