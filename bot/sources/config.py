"""A lead source as the routing config declares it (`sources:`), checked with pydantic.

What each kind needs is checked here, so `rotation config check` names a source that can
never work (a signed kind without `secret_env`, a Salesforce source without its org) at its
line, before any sender is pointed at it. Whether the named variables are set is a question
for the process that serves (`missing_secrets`): a config is checked on laptops too.
Everything about a kind (whether it takes a secret and what that secret is, its own options,
its own rules) comes from its `Kind` in `bot.sources.registry`; nothing is listed here.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Annotated, Any

import jmespath
from jmespath.exceptions import JMESPathError
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidatorFunctionWrapHandler,
    WrapValidator,
    field_validator,
    model_validator,
)
from pydantic_core import InitErrorDetails, PydanticCustomError

from bot.sources.registry import KIND_BY_NAME

SOURCE_NAME = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$"
ENV_NAME = r"^[A-Za-z_][A-Za-z0-9_]*$"
ORGANIZATION_ID = r"^[A-Za-z0-9]{15}([A-Za-z0-9]{3})?$"


def _listed(names: list[str], quote: str = "'") -> str:
    *others, last = (f"{quote}{name}{quote}" for name in names)
    return f"{', '.join(others)} or {last}" if others else last


def _owners(option: str) -> list[str]:
    """The kinds that take a kind-only option (`redirect`: form)."""
    return [name for name, kind in KIND_BY_NAME.items() if option in kind.options]


KIND_OPTIONS = sorted({option for kind in KIND_BY_NAME.values() for option in kind.options})


class SourceConfig(BaseModel):
    """One entry of `sources:`; its address is `POST /sources/{name}`."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, frozen=True)

    name: str = Field(pattern=SOURCE_NAME)
    kind: str
    secret_env: str | None = Field(None, pattern=ENV_NAME)
    redirect: str | None = Field(None, max_length=2000)
    honeypot: str | None = Field(None, min_length=1, max_length=200)
    organization_id: str | None = Field(None, pattern=ORGANIZATION_ID)
    public_url: str | None = Field(None, max_length=2000)
    fields: dict[str, str] = Field(default_factory=dict)

    @field_validator("kind")
    @classmethod
    def _known_kind(cls, value: str) -> str:
        if value not in KIND_BY_NAME:
            raise ValueError(f"{value[:40]!r} is not a kind of source; use one of "
                             f"{_listed(list(KIND_BY_NAME))}")
        return value

    @field_validator("redirect", "public_url")
    @classmethod
    def _web_address(cls, value: str | None) -> str | None:
        if value is not None and not re.match(r"^https?://[^\s/]+", value):
            raise ValueError(f"{value[:80]!r} is not a web address like https://example.com/thanks")
        return value

    @field_validator("fields")
    @classmethod
    def _paths(cls, value: dict[str, str]) -> dict[str, str]:
        seen: dict[str, str] = {}
        for name, path in value.items():
            if not name.strip():
                raise ValueError("a lead field's name must not be empty")
            first = seen.setdefault(name.lower(), name)
            if first != name:
                raise ValueError(f"{first!r} and {name!r} name the same lead field (names ignore case)")
            try:
                jmespath.compile(path)
            except JMESPathError as error:
                raise ValueError(f"the path for {name!r} is not a JMESPath expression "
                                 f"({_first_line(error)}): {path[:80]!r}") from None
        return value

    @model_validator(mode="after")
    def _what_the_kind_needs(self) -> SourceConfig:
        kind = KIND_BY_NAME[self.kind]
        if kind.needs_secret_env and self.secret_env is None:
            raise ValueError(f"a {self.kind} source needs `secret_env`: the environment variable that holds "
                             f"{kind.secret}")
        problem = kind.check(self)
        if problem is not None:
            raise ValueError(problem)
        for key in KIND_OPTIONS:
            if getattr(self, key) is not None and key not in kind.options:
                raise ValueError(f"`{key}` is only for {_listed(_owners(key), '')} sources, and this one is "
                                 f"{self.kind}")
        if self.secret_env is not None and kind.secret is None:
            raise ValueError(f"a {self.kind} source takes no `secret_env`: {kind.unsigned_because}")
        return self


_NOT_OPTIONS = set(KIND_OPTIONS) - set(SourceConfig.model_fields)
if _NOT_OPTIONS:  # a kind names an option no source can be given: fail at import, not at check
    raise TypeError(f"kinds take options that SourceConfig does not have: {sorted(_NOT_OPTIONS)}")


def _first_line(error: Exception) -> str:
    return str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__


def _duplicate_names(value: Any) -> list[InitErrorDetails]:
    """Each entry that reuses an earlier entry's name (names ignore case: they are addresses)."""
    found: list[InitErrorDetails] = []
    first: dict[str, int] = {}
    for index, entry in enumerate(value if isinstance(value, list) else []):
        name = entry.get("name") if isinstance(entry, dict) else None
        if not isinstance(name, str):
            continue
        earlier = first.setdefault(name.strip().lower(), index)
        if earlier != index:
            message = (f"{name[:100]!r} is also the name of sources[{earlier}]; each source needs its own "
                       "name, which is its address (/sources/NAME)")
            error = PydanticCustomError("value_error", "{error}", {"error": message})
            found.append(InitErrorDetails(type=error, loc=(index, "name"), input=name))
    return found


def _names_once(value: Any, handler: ValidatorFunctionWrapHandler) -> list[SourceConfig]:
    """The entries, and any name used twice reported with the entries' own mistakes."""
    duplicates = _duplicate_names(value)
    try:
        sources: list[SourceConfig] = handler(value)
    except ValidationError as error:
        if not duplicates:
            raise
        details = [InitErrorDetails(type=e["type"], loc=e["loc"], input=e["input"], ctx=e.get("ctx", {}))
                   for e in error.errors(include_url=False)]
        raise ValidationError.from_exception_data("sources", [*details, *duplicates]) from None
    if duplicates:
        raise ValidationError.from_exception_data("sources", duplicates)
    return sources


SourceList = Annotated[list[SourceConfig], WrapValidator(_names_once)]


def missing_secrets(sources: list[SourceConfig], environ: Mapping[str, str]) -> list[str]:
    """What `rotation serve` must say before it takes requests: each source whose secret is
    not in the environment (its sender would get 503 until it is)."""
    return [
        f"sources[{index}] ({source.name}, {source.kind}): the environment variable {source.secret_env} is "
        f"not set; set it to {KIND_BY_NAME[source.kind].secret or 'the secret its sender uses'}"
        for index, source in enumerate(sources)
        if source.secret_env is not None and not environ.get(source.secret_env)
    ]


def sources_settings(sources: list[SourceConfig]) -> list[dict[str, Any]]:
    """The sources as `config apply` stores them in the team's settings (and export shows them)."""
    return [source.model_dump(exclude_none=True, exclude_defaults=True) | {"name": source.name,
                                                                         "kind": source.kind}
            for source in sources]
