"""What every registered kind must come with, so a half-added kind fails here rather than in
production: a served source and a routed case, a fixture, the wrong-signature test when it
takes a secret, words for `config check`, and a docstring that tells an operator where to
paste the URL in the product and which secret to copy. Also what the base classes refuse."""

from __future__ import annotations

import importlib
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from sources_support import FIXTURES, SOURCES, problems_for
from test_kinds import CASES, KIND, WRONG_SIGNATURE

from bot.sources.config import KIND_OPTIONS, SourceConfig
from bot.sources.kind import Kind, RawRequest
from bot.sources.registry import KIND_BY_NAME, by_name
from bot.sources.signed_kind import SignedKind
from bot.web.sources import raw_request

HERE = Path(__file__).resolve().parent
KIND_OF_SOURCE = {source["name"]: source["kind"] for source in SOURCES}
NAMES = list(KIND_BY_NAME)


@pytest.mark.parametrize("name", NAMES)
def test_every_kind_is_served_and_has_a_routed_case_and_a_fixture(name: str) -> None:
    assert name in KIND_OF_SOURCE.values(), f"no source of kind {name} in sources_support.SOURCES"
    in_cases = name in {KIND.get(case[0], case[0]) for case in CASES}
    assert in_cases or (HERE / f"test_{name}.py").is_file(), \
        f"{name}: add a case to test_kinds.CASES or tests/sources/test_{name}.py"
    assert list(FIXTURES.glob(f"{name}.*")), f"no fixture tests/sources/fixtures/{name}.* (what it sends)"


@pytest.mark.parametrize("name", [name for name, kind in KIND_BY_NAME.items() if kind.secret is not None])
def test_every_kind_with_a_secret_is_in_the_wrong_signature_test(name: str) -> None:
    assert name in {KIND_OF_SOURCE[source] for source in WRONG_SIGNATURE}


@pytest.mark.parametrize("name", NAMES)
def test_every_kind_module_says_where_to_paste_the_url_and_which_secret_to_copy(name: str) -> None:
    kind = KIND_BY_NAME[name]
    doc = importlib.import_module(type(kind).__module__).__doc__ or ""
    assert doc.startswith(f"`{name}`:"), "the docstring opens with the kind's name"
    setup = doc.partition("Set up:")[2]
    assert "https://YOUR-SERVER/sources/NAME" in setup, "Set up: says where the URL is pasted"
    if kind.secret is None:
        assert "no secret to copy" in setup
    else:
        assert "secret_env" in setup, "Set up: says which secret goes in secret_env"


OPTION_VALUES = {"redirect": "https://example.com/thanks", "honeypot": "website",
                 "organization_id": "00D000000000001"}


def loadable(name: str, **more: str) -> dict[str, str]:
    """A source of kind `name` with its secret_env when it needs one and its own options, plus `more`."""
    kind = KIND_BY_NAME[name]
    entry = {"name": "x", "kind": name} | ({"secret_env": "X"} if kind.needs_secret_env else {})
    return entry | {option: OPTION_VALUES[option] for option in kind.options} | more


@pytest.mark.parametrize("name", NAMES)
def test_config_check_words_what_each_kind_needs_and_refuses(name: str) -> None:
    kind = KIND_BY_NAME[name]
    assert SourceConfig.model_validate(loadable(name)).kind == name
    if kind.needs_secret_env:
        [problem] = problems_for([{"name": "x", "kind": name}])
        assert (f"a {name} source needs `secret_env`: the environment variable that holds {kind.secret}"
                in problem)
    if kind.secret is None:
        [problem] = problems_for([loadable(name, secret_env="X")])
        assert f"a {name} source takes no `secret_env`: {kind.unsigned_because}" in problem
    assert set(KIND_OPTIONS) == set(OPTION_VALUES), "give the new option a value in OPTION_VALUES"
    for option in set(KIND_OPTIONS) - kind.options:
        [problem] = problems_for([loadable(name, **{option: OPTION_VALUES[option]})])
        assert f"`{option}` is only for" in problem and f"this one is {name}" in problem


def test_a_kind_without_authenticate_or_its_mapping_cannot_be_made() -> None:
    class Half(Kind):
        name = "half"
        secret = "a token"

        def default_fields(self, payload: dict[str, Any]) -> dict[str, Any]:
            return {}

    with pytest.raises(TypeError, match="authenticate"):
        Half()  # type: ignore[abstract]


def test_the_registry_refuses_a_kind_that_does_not_say_what_config_check_needs() -> None:
    class Public(Kind):
        name = "public"

        def authenticate(self, request: RawRequest, source: SourceConfig, secret: str | None,
                         now: datetime) -> None:
            return None

        def default_fields(self, payload: dict[str, Any]) -> dict[str, Any]:
            return {}

    with pytest.raises(TypeError, match="unsigned_because"):
        by_name(Public())
    with pytest.raises(TypeError, match="name"):
        by_name(*KIND_BY_NAME.values(), KIND_BY_NAME["json"])


def test_a_signed_kind_signs_as_its_attributes_say() -> None:
    tally = KIND_BY_NAME["tally"]
    assert isinstance(tally, SignedKind) and tally.auth_headers == ("Tally-Signature",)
    assert KIND_BY_NAME["webflow"].auth_headers == ("x-webflow-signature", "x-webflow-timestamp")
    assert KIND_BY_NAME["json"].auth_headers == ("Authorization",)
    assert KIND_BY_NAME["form"].auth_headers == ()
    request = RawRequest("POST", {"Tally-Signature": "AAAA"}, b"{}")
    with pytest.raises(Exception, match="signature does not match") as refused:
        tally.authenticate(request, SourceConfig(name="t", kind="tally", secret_env="T"), "s",
                           datetime.now(UTC))
    assert getattr(refused.value, "status", None) == 401


async def test_the_raw_request_carries_the_query_string_with_every_value() -> None:
    source = SourceConfig(name="jot", kind="form")
    seen: list[RawRequest] = []

    async def handle(request: web.Request) -> web.Response:
        raw = await raw_request(request, source, 1024)
        seen.append(raw)
        return web.json_response({name: raw.query.getall(name) for name in raw.query})

    app = web.Application()
    app.router.add_post("/sources/jot", handle)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    try:
        async with aiohttp.ClientSession() as http, http.post(
                f"http://127.0.0.1:{port}/sources/jot?token=t%20ok&tag=a&tag=b", data=b"x=1",
                headers={"Content-Type": "application/x-www-form-urlencoded"}) as answer:
            assert answer.status == 200
            assert json.loads(await answer.read()) == {"token": ["t ok"], "tag": ["a", "b"]}
    finally:
        await runner.cleanup()
    assert seen[0].body == b"x=1"
    assert RawRequest("POST", {}, b"").query.get("token") is None  # built without one: empty
