"""Settings read from the environment (see the contract's table)."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from bot.jobs.feed_address import ALLOW_ENV as CALENDAR_ALLOW_NETWORKS
from bot.jobs.feed_address import trusted_networks
from bot.store.db import DEFAULT_DATABASE_URL


def _secret(default: str | None = None) -> str | None:
    """A setting kept out of `repr(settings)`, so no log or traceback ever shows it."""
    return field(default=default, repr=False)


@dataclass(frozen=True, slots=True)
class Settings:
    database_url: str = field(default=DEFAULT_DATABASE_URL, repr=False)  # may hold a password
    routing_config: str | None = None
    intake_token: str | None = _secret()
    slack_bot_token: str | None = _secret()
    slack_signing_secret: str | None = _secret()
    slack_app_token: str | None = _secret()
    slack_api_url: str = "https://slack.com/api/"
    host: str = "0.0.0.0"
    port: int = 3000
    max_body_bytes: int = 64 * 1024
    webhook_url: str | None = None
    webhook_secret: str | None = _secret()
    outbox_max_attempts: int = 8
    manager_group: str | None = None
    delivery: str = "auto"  # where the outbox is sent from: "process", "inline" or "auto"
    metrics_token: str | None = _secret()  # when set, GET /metrics wants it as a bearer token
    # ROTATION_CALENDAR_ALLOW_NETWORKS as given, checked here so that a typo stops serve at start
    # rather than at the first calendar fetch (bot.jobs.feed_address reads the same variable).
    # Text, not networks: settings reach the delivery child as JSON.
    calendar_allow_networks: str | None = None
    # CRM write-back (bot.crm): the credentials of the CRM the routing config's `crm:` names.
    hubspot_token: str | None = _secret()
    hubspot_api_url: str = "https://api.hubapi.com"
    salesforce_instance_url: str | None = None
    salesforce_client_id: str | None = _secret()
    salesforce_client_secret: str | None = _secret()
    salesforce_token: str | None = _secret()
    pipedrive_api_token: str | None = _secret()
    pipedrive_api_url: str = "https://api.pipedrive.com"

    @property
    def delivers_inline(self) -> bool:
        """Whether serve sends the outbox itself, rather than from a child process of its own.

        "auto" picks the child where it helps and works: more than one CPU to run on (then
        intake and delivery each get one instead of queueing behind each other), a POSIX
        system (the pipes), and a database both processes can open (not an in-memory one).
        """
        if self.delivery != "auto":
            return self.delivery == "inline"
        in_memory = self.database_url.startswith("sqlite") and (
            ":memory:" in self.database_url or self.database_url.rstrip("/").endswith(":"))
        return os.name != "posix" or in_memory or _usable_cpus() < 2

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> Settings:
        env = os.environ if environ is None else environ

        def get(name: str) -> str | None:
            value = env.get(name, "").strip()
            return value or None

        def number(name: str, default: int, *, least: int, most: int | None = None) -> int:
            return _whole_number(name, get(name), default, least=least, most=most)

        return cls(
            database_url=database_url(get("DATABASE_URL") or DEFAULT_DATABASE_URL),
            routing_config=get("ROTATION_CONFIG"),
            intake_token=get("ROTATION_INTAKE_TOKEN"),
            slack_bot_token=get("SLACK_BOT_TOKEN"),
            slack_signing_secret=get("SLACK_SIGNING_SECRET"),
            slack_app_token=get("SLACK_APP_TOKEN"),
            slack_api_url=get("SLACK_API_URL") or "https://slack.com/api/",
            host=get("HOST") or "0.0.0.0",
            port=number("PORT", 3000, least=0, most=65535),
            max_body_bytes=number("ROTATION_MAX_BODY_BYTES", 64 * 1024, least=1),
            webhook_url=_web_url("ROTATION_WEBHOOK_URL", get("ROTATION_WEBHOOK_URL")),
            webhook_secret=get("ROTATION_WEBHOOK_SECRET"),
            outbox_max_attempts=number("ROTATION_OUTBOX_MAX_ATTEMPTS", 8, least=1),
            manager_group=get("ROTATION_MANAGER_GROUP"),
            delivery=_one_of("ROTATION_DELIVERY", get("ROTATION_DELIVERY") or "auto", DELIVERY_MODES),
            metrics_token=get("ROTATION_METRICS_TOKEN"),
            calendar_allow_networks=_networks(get(CALENDAR_ALLOW_NETWORKS)),
            hubspot_token=get("HUBSPOT_TOKEN"),
            hubspot_api_url=_web_url("HUBSPOT_API_URL", get("HUBSPOT_API_URL")) or "https://api.hubapi.com",
            salesforce_instance_url=_web_url("SALESFORCE_INSTANCE_URL", get("SALESFORCE_INSTANCE_URL")),
            salesforce_client_id=get("SALESFORCE_CLIENT_ID"),
            salesforce_client_secret=get("SALESFORCE_CLIENT_SECRET"),
            salesforce_token=get("SALESFORCE_TOKEN"),
            pipedrive_api_token=get("PIPEDRIVE_API_TOKEN"),
            pipedrive_api_url=_web_url("PIPEDRIVE_API_URL", get("PIPEDRIVE_API_URL")) or "https://api.pipedrive.com",
        )


DELIVERY_MODES = ("auto", "process", "inline")
# The async drivers we ship, and the plain schemes people write for them (Heroku, docs, habit).
DRIVERS = {"sqlite": "sqlite+aiosqlite", "postgres": "postgresql+asyncpg", "postgresql": "postgresql+asyncpg"}


def database_url(value: str) -> str:
    """DATABASE_URL as SQLAlchemy's async engine takes it, or a ValueError saying what is wrong.

    `postgres://`, `postgresql://` and `sqlite:///` mean our async drivers, so a URL copied
    from a hosting dashboard works as it is.
    """
    try:
        url = make_url(value)
    except (ArgumentError, ValueError):  # ValueError: a port that is not a number
        raise ValueError(f"DATABASE_URL is not a database URL: {without_password(value)!r}. Use, for "
                         "example, sqlite+aiosqlite:///rotation.db or postgresql+asyncpg://user:pass@host/db."
                         ) from None
    url = url.set(drivername=DRIVERS.get(url.drivername, url.drivername))
    value = url.drivername + value[value.index(":"):]  # the rest exactly as given
    if url.drivername not in DRIVERS.values():
        raise ValueError(f"DATABASE_URL uses {url.drivername!r}, which this service cannot talk to: use "
                         "sqlite+aiosqlite:///FILE or postgresql+asyncpg://USER:PASSWORD@HOST/DATABASE.")
    if url.drivername == "postgresql+asyncpg" and "sslmode" in url.query and "ssl" not in url.query:
        # libpq's spelling, as hosting dashboards print it; asyncpg takes the same modes as `ssl`.
        url = url.difference_update_query(["sslmode"]).update_query_dict({"ssl": url.query["sslmode"]})
        value = url.render_as_string(hide_password=False)
    if url.drivername == "sqlite+aiosqlite" and url.database and url.database != ":memory:" \
            and not url.database.startswith("file:"):
        folder = Path(url.database).absolute().parent
        if not folder.is_dir():
            raise ValueError(f"DATABASE_URL points at a SQLite file in {folder}, a directory that does not "
                             "exist: create it, or choose another path.")
    return value


PASSWORD_IN_QUERY = re.compile(r"([?&](?:password|passwd|pwd|sslpassword))=[^&]*", re.IGNORECASE)


def without_password(url: str) -> str:
    """`url` fit to print: its password (and anything that might be one) replaced by ***.

    Read from the text as given, not as SQLAlchemy parses it: a password holding an `@` or
    a `/` unencoded is split by the parser, and a piece of it would show as the host or
    the database. So everything from the `:` after the user up to the last `@` is hidden.
    Without an `@`, a URL that does not parse may hold a password typed in the wrong place
    (`postgresql://user:secret`): what follows `://` is not shown then. A `password=` in the
    query (asyncpg takes one there) is hidden too.
    """
    url = PASSWORD_IN_QUERY.sub(r"\1=***", url)
    head, at, host = url.rpartition("@")
    if not at:
        try:
            make_url(url)
        except (ArgumentError, ValueError):
            scheme, slashes, rest = url.partition("://")
            return f"{scheme}://… (the rest is not shown)" if slashes and ":" in rest else url
        return url
    scheme, slashes, userinfo = head.partition("//") if "//" in head else ("", "", head)
    user, colon, _password = userinfo.partition(":")
    return f"{scheme}{slashes}{user}:***@{host}" if colon else url


def shown_database(url: str) -> str:
    """The database a command uses, as it tells the user: a SQLite file by its absolute path
    (a relative one is relative to the folder the command was run from, which is how a run
    from another folder quietly made a new empty database), any other URL without its password."""
    try:
        parsed = make_url(url)
    except (ArgumentError, ValueError):
        return without_password(url)
    database = parsed.database or ""
    if not parsed.drivername.startswith("sqlite") or not database or database == ":memory:" \
            or database.startswith("file:"):
        return without_password(url)
    return parsed.set(database=str(Path(database).absolute())).render_as_string(hide_password=True)


def new_sqlite_file(url: str) -> bool:
    """Whether `url` names a SQLite file that does not exist yet (opening it would create it)."""
    try:
        parsed = make_url(url)
    except (ArgumentError, ValueError):
        return False
    database = parsed.database or ""
    return (parsed.drivername.startswith("sqlite") and bool(database) and database != ":memory:"
            and not database.startswith("file:") and not Path(database).exists())


def _whole_number(name: str, value: str | None, default: int, *, least: int, most: int | None = None) -> int:
    if value is None:
        return default
    try:
        number = int(value)
    except ValueError:
        raise ValueError(f"{name} must be a whole number, not {value!r}.") from None
    if number < least or (most is not None and number > most):
        span = f"between {least} and {most}" if most is not None else f"at least {least}"
        raise ValueError(f"{name} must be {span}, not {number}.")
    return number


def _web_url(name: str, value: str | None) -> str | None:
    if value is None:
        return None
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018 - raises ValueError on a port that is not one
    except ValueError:
        parts = urlsplit("")
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"{name} must be an http:// or https:// URL, not {without_password(value)!r}.")
    return value


def _networks(value: str | None) -> str | None:
    """`value` when it is a comma-separated list of networks, else a ValueError naming the
    variable and the entry that is not one."""
    if value is not None:
        trusted_networks(value)
    return value


def _usable_cpus() -> int:
    """CPUs this process may run on (its affinity, e.g. a container's cpuset), not the machine's."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def _one_of(name: str, value: str, allowed: tuple[str, ...]) -> str:
    if value not in allowed:
        raise ValueError(f"{name} must be one of {', '.join(allowed)}, not {value!r}")
    return value
