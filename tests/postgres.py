"""A throwaway PostgreSQL server for the test session.

One server is started per test session (``initdb`` + ``pg_ctl start``, about
1.5 s) and every test gets its own fresh database from :func:`create_database`
(``CREATE DATABASE``, a few tens of milliseconds).

* Binaries: ``$POSTGRES_BIN``, else ``/usr/lib/postgresql/15/bin``, else
  ``pg_config --bindir``, else the newest ``/usr/lib/postgresql/*/bin``, else
  wherever ``initdb`` is on ``PATH``.
* Root: ``initdb`` and ``postgres`` refuse to run as root, so when the tests run
  as root the server runs as an unprivileged user (``$ROTATION_PG_OS_USER``,
  else ``nobody``, else an existing or newly created system user
  ``rotationpg``). Privileges are dropped by :mod:`subprocess` itself
  (``user=``/``group=``/``extra_groups=``), so no ``runuser``/``setpriv``/``su``
  is needed. The data directory lives in a private temp dir owned by that user.
* Networking: a unix socket directory inside the temp dir plus TCP on
  127.0.0.1 on a free port; authentication is ``trust``.
* ``$TEST_DATABASE_URL_PG`` (any SQLAlchemy/libpq style URL of a superuser, or
  a user allowed to CREATE DATABASE) makes everything use that server instead;
  databases created there are dropped again by the ``postgres_url`` fixture.

Only the standard library and asyncpg are used.
"""

from __future__ import annotations

import asyncio
import atexit
import concurrent.futures
import contextlib
import glob
import os
import pwd
import re
import shlex
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import uuid
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any

import asyncpg
from sqlalchemy.engine import URL, make_url

__all__ = [
    "PostgresNotFound",
    "ThrowawayPostgres",
    "create_database",
    "drop_database",
    "find_bindir",
    "get_server",
    "searched_locations",
    "stop_server",
    "unique_database_name",
]

DEFAULT_BINDIR = "/usr/lib/postgresql/15/bin"
REQUIRED_BINARIES = ("initdb", "pg_ctl", "postgres")
EXTERNAL_URL_ENV = "TEST_DATABASE_URL_PG"
TEMP_PREFIX = "rotation-pg-"
OWNER_FILE = "owner.pid"
SUPERUSER = "postgres"
FALLBACK_OS_USER = "rotationpg"
START_TIMEOUT = 60
# Unix socket paths are limited to ~107 bytes; keep the temp dir short.
MAX_TEMP_BASE_LEN = 60


class PostgresNotFound(RuntimeError):
    """No usable PostgreSQL server binaries were found."""


# --------------------------------------------------------------------------
# Finding the binaries
# --------------------------------------------------------------------------


def _has_binaries(path: str | os.PathLike[str] | None) -> bool:
    if not path:
        return False
    return all(os.access(Path(path, name), os.X_OK) for name in REQUIRED_BINARIES)


def _pg_config_bindir() -> str | None:
    pg_config = shutil.which("pg_config")
    if not pg_config:
        return None
    try:
        out = subprocess.run([pg_config, "--bindir"], capture_output=True, text=True, timeout=10, check=True)
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() or None


def _candidates() -> list[tuple[str, str | None]]:
    """(description, directory) pairs in search order."""
    explicit = os.environ.get("POSTGRES_BIN")
    if explicit:
        # An explicit setting wins outright: a typo should not silently fall back.
        return [("$POSTGRES_BIN", explicit)]
    versioned = sorted(
        glob.glob("/usr/lib/postgresql/*/bin"),
        key=lambda p: [int(x) if x.isdigit() else 0 for x in re.split(r"[/.]", p)],
        reverse=True,
    )
    initdb = shutil.which("initdb")
    return [
        (DEFAULT_BINDIR, DEFAULT_BINDIR),
        ("pg_config --bindir", _pg_config_bindir()),
        *[(p, p) for p in versioned],
        ("initdb on PATH", os.path.dirname(os.path.realpath(initdb)) if initdb else None),
    ]


def searched_locations() -> str:
    """Human readable list of where :func:`find_bindir` looks."""
    parts = []
    for desc, path in _candidates():
        if not path:
            parts.append(f"{desc} (none)")
        elif desc != path:
            parts.append(f"{desc} -> {path}")
        else:
            parts.append(path)
    return ", ".join(dict.fromkeys(parts))


def find_bindir() -> Path | None:
    for _desc, path in _candidates():
        if _has_binaries(path):
            return Path(path)  # type: ignore[arg-type]
    return None


# --------------------------------------------------------------------------
# Running things as an unprivileged user
# --------------------------------------------------------------------------


def _clean_env() -> dict[str, str]:
    # PG* variables (PGDATA, PGPORT, PGHOST, ...) would confuse pg_ctl/initdb.
    env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
    env["LC_ALL"] = "C"
    env.pop("LANG", None)
    env.pop("LANGUAGE", None)
    return env


class _OsUser:
    """Who runs initdb/postgres: ourselves, or an unprivileged user when root."""

    def __init__(self, pw: pwd.struct_passwd | None) -> None:
        self.pw = pw

    @property
    def name(self) -> str:
        return self.pw.pw_name if self.pw else pwd.getpwuid(os.geteuid()).pw_name

    def popen_kwargs(self) -> dict[str, Any]:
        if self.pw is None:
            return {}
        return {"user": self.pw.pw_uid, "group": self.pw.pw_gid, "extra_groups": []}

    def run(self, args: list[str], *, cwd: Path | None = None, timeout: float = 120):
        env = _clean_env()
        if self.pw is not None:
            env.update(HOME=str(cwd or "/"), USER=self.pw.pw_name, LOGNAME=self.pw.pw_name)
        return subprocess.run(
            args,
            cwd=cwd,
            env=env,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
            **self.popen_kwargs(),
        )

    def chown(self, path: Path) -> None:
        if self.pw is not None:
            os.chown(path, self.pw.pw_uid, self.pw.pw_gid)

    def can_use(self, path: Path) -> bool:
        """Can this user write into ``path`` (and so reach it)?"""
        test = shutil.which("test") or "/usr/bin/test"
        try:
            return self.run([test, "-w", str(path), "-a", "-x", str(path)]).returncode == 0
        except OSError:
            return False


def _os_user(bindir: Path) -> _OsUser:
    if os.geteuid() != 0:
        return _OsUser(None)

    def usable(pw: pwd.struct_passwd) -> bool:
        if pw.pw_uid == 0:
            return False
        try:
            res = _OsUser(pw).run([str(bindir / "initdb"), "--version"], cwd=Path("/"))
        except OSError:  # setuid not permitted, e.g. uid not mapped in a user namespace
            return False
        return res.returncode == 0

    wanted = os.environ.get("ROTATION_PG_OS_USER")
    names = [wanted] if wanted else ["nobody", FALLBACK_OS_USER]
    tried = []
    for name in names:
        try:
            pw = pwd.getpwnam(name)
        except KeyError:
            tried.append(f"{name} (no such user)")
            continue
        if usable(pw):
            return _OsUser(pw)
        tried.append(f"{name} (cannot run {bindir / 'initdb'} as it)")
    if not wanted:
        useradd = shutil.which("useradd")
        if useradd:
            subprocess.run(
                [
                    useradd,
                    "--system",
                    "--no-create-home",
                    "--shell",
                    "/usr/sbin/nologin",
                    FALLBACK_OS_USER,
                ],
                capture_output=True,
                check=False,
            )
            with contextlib.suppress(KeyError):
                pw = pwd.getpwnam(FALLBACK_OS_USER)
                if usable(pw):
                    return _OsUser(pw)
        tried.append(f"useradd {FALLBACK_OS_USER}")
    raise RuntimeError(
        "running as root, and no unprivileged user can run PostgreSQL "
        f"(tried: {'; '.join(tried)}); set ROTATION_PG_OS_USER"
    )


# --------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _run_coro(factory: Callable[[], Coroutine[Any, Any, Any]]) -> Any:
    """Run a coroutine to completion in a private thread + event loop.

    Works whether or not the caller already runs an event loop (sync or async
    fixtures, plain scripts) and never touches the caller's loop.
    """
    with concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="pg-admin") as ex:
        return ex.submit(lambda: asyncio.run(factory())).result()


_NAME_OK = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


def unique_database_name(hint: str = "") -> str:
    """A fresh valid database name such as ``t_test_foo_1a2b3c4d``."""
    slug = re.sub(r"[^a-z0-9]+", "_", hint.lower()).strip("_")
    suffix = uuid.uuid4().hex[:10]
    slug = slug[: 63 - len("t__") - len(suffix)]
    return f"t_{slug}_{suffix}" if slug else f"t_{suffix}"


def _check_name(name: str) -> str:
    if not _NAME_OK.match(name):
        raise ValueError(f"invalid database name {name!r} (use [a-z0-9_], max 63 chars)")
    return name


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


# --------------------------------------------------------------------------
# The server
# --------------------------------------------------------------------------


class ThrowawayPostgres:
    """A PostgreSQL server living in a temp dir for as long as this object.

    ``url`` is the SQLAlchemy URL of the ``postgres`` maintenance database;
    use :meth:`create_database` to get fresh empty databases.
    """

    def __init__(
        self, bindir: str | os.PathLike[str] | None = None, *, external_url: str | None = None
    ) -> None:
        if external_url is None:
            external_url = os.environ.get(EXTERNAL_URL_ENV) or None
        self.external = external_url is not None
        self._base_url: URL | None = None
        self.bindir: Path | None = None
        if external_url is not None:
            self._base_url = make_url(external_url).set(drivername="postgresql+asyncpg")
        else:
            self.bindir = Path(bindir) if bindir else find_bindir()
            if self.bindir is None or not _has_binaries(self.bindir):
                raise PostgresNotFound(
                    "PostgreSQL server binaries not found "
                    f"(looked in {searched_locations()}); set POSTGRES_BIN"
                )
        self.tempdir: Path | None = None
        self.port: int | None = None
        self.startup_seconds: float | None = None
        self._user: _OsUser | None = None
        self._owner_pid: int | None = None
        self._server_version: int | None = None

    # -- lifecycle ---------------------------------------------------------

    @property
    def running(self) -> bool:
        return self._base_url is not None and (self.external or self.tempdir is not None)

    def start(self) -> ThrowawayPostgres:
        if self.running:
            return self
        assert self.bindir is not None
        t0 = time.monotonic()
        _reap_stale_servers()
        self._user = _os_user(self.bindir)
        self.tempdir = self._make_tempdir()
        self._owner_pid = os.getpid()
        atexit.register(self._atexit)
        try:
            self._initdb()
            self._start_server()
        except BaseException:
            self.stop()
            raise
        self._base_url = URL.create(
            "postgresql+asyncpg",
            username=SUPERUSER,
            host="127.0.0.1",
            port=self.port,
            database="postgres",
        )
        self.startup_seconds = time.monotonic() - t0
        return self

    def stop(self) -> None:
        if self.external or self.tempdir is None:
            return
        if self._owner_pid is not None and os.getpid() != self._owner_pid:
            return  # a forked child must not shut down its parent's server
        tempdir, self.tempdir = self.tempdir, None
        self._base_url = None
        _stop_data_dir(tempdir, self._user)
        shutil.rmtree(tempdir, ignore_errors=True)
        with contextlib.suppress(Exception):
            atexit.unregister(self._atexit)

    def _atexit(self) -> None:
        with contextlib.suppress(Exception):
            self.stop()

    def __enter__(self) -> ThrowawayPostgres:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- databases ---------------------------------------------------------

    @property
    def url(self) -> str:
        """SQLAlchemy URL of the maintenance database."""
        return self._require_url().render_as_string(hide_password=False)

    def url_for(self, name: str) -> str:
        return self._require_url().set(database=name).render_as_string(hide_password=False)

    def create_database(self, name: str | None = None) -> str:
        """Create an empty database and return its SQLAlchemy async URL."""
        name = _check_name(name or unique_database_name())

        async def create() -> None:
            conn = await self._admin_connect()
            try:
                if self._server_version is None:
                    self._server_version = conn.get_server_version().major
                # FILE_COPY avoids WAL-logging a whole copy of template0;
                # with fsync off it is the cheaper strategy (PostgreSQL >= 15).
                strategy = " STRATEGY = FILE_COPY" if self._server_version >= 15 else ""
                await conn.execute(
                    f"CREATE DATABASE \"{name}\" TEMPLATE template0 ENCODING 'UTF8'"
                    f" LC_COLLATE 'C' LC_CTYPE 'C'{strategy}"
                )
            finally:
                await conn.close()

        _run_coro(create)
        return self.url_for(name)

    def drop_database(self, name: str) -> None:
        """Drop a database, disconnecting anyone still using it."""
        name = _check_name(name)

        async def drop() -> None:
            conn = await self._admin_connect()
            try:
                await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            finally:
                await conn.close()

        _run_coro(drop)

    def _require_url(self) -> URL:
        if self._base_url is None:
            raise RuntimeError("the PostgreSQL server is not running; call start() first")
        return self._base_url

    async def _admin_connect(self) -> asyncpg.Connection:
        u = self._require_url()
        return await asyncpg.connect(
            host=u.host or "127.0.0.1",
            port=u.port or 5432,
            user=u.username or SUPERUSER,
            password=u.password or None,
            database=u.database or "postgres",
            timeout=30,
        )

    # -- internals ---------------------------------------------------------

    def _make_tempdir(self) -> Path:
        assert self._user is not None
        bases = [tempfile.gettempdir(), "/tmp"]
        for base in dict.fromkeys(bases):
            if len(base) > MAX_TEMP_BASE_LEN or not os.path.isdir(base):
                continue
            path = Path(tempfile.mkdtemp(prefix=TEMP_PREFIX, dir=base))
            path.chmod(0o700)
            (path / OWNER_FILE).write_text(str(os.getpid()))
            self._user.chown(path)
            if self._user.can_use(path):
                (path / "sock").mkdir(mode=0o700)
                self._user.chown(path / "sock")
                return path
            shutil.rmtree(path, ignore_errors=True)
        raise RuntimeError(f"no temp dir usable by OS user {self._user.name!r} (tried {', '.join(bases)})")

    def _initdb(self) -> None:
        assert self.tempdir is not None and self._user is not None and self.bindir
        res = self._user.run(
            [
                str(self.bindir / "initdb"),
                "-D",
                str(self.tempdir / "data"),
                "-A",
                "trust",
                "-U",
                SUPERUSER,
                "--encoding",
                "UTF8",
                "--locale",
                "C",
                "--no-sync",
            ],
            cwd=self.tempdir,
        )
        if res.returncode != 0:
            raise RuntimeError(
                f"initdb failed (exit {res.returncode}) as OS user {self._user.name!r}:\n"
                f"{res.stdout}\n{res.stderr}"
            )

    def _start_server(self) -> None:
        assert self.tempdir is not None and self._user is not None and self.bindir
        log = self.tempdir / "postgres.log"
        last_error = ""
        for _attempt in range(5):
            self.port = _free_port()
            opts = " ".join(
                [
                    "-F",
                    "-c fsync=off",
                    "-c full_page_writes=off",
                    "-c synchronous_commit=off",
                    "-c max_connections=200",
                    f"-k {shlex.quote(str(self.tempdir / 'sock'))}",
                    f"-p {self.port}",
                    "-h 127.0.0.1",
                ]
            )
            res = self._user.run(
                [
                    str(self.bindir / "pg_ctl"),
                    "-D",
                    str(self.tempdir / "data"),
                    "-l",
                    str(log),
                    "-w",
                    "-t",
                    str(START_TIMEOUT),
                    "-o",
                    opts,
                    "start",
                ],
                cwd=self.tempdir,
                timeout=START_TIMEOUT + 30,
            )
            if res.returncode == 0:
                return
            log_text = log.read_text(errors="replace") if log.exists() else ""
            last_error = f"{res.stdout}\n{res.stderr}\n--- postgres.log ---\n{log_text}"
            # Somebody grabbed the port between _free_port() and bind: retry.
            if "could not bind" not in log_text and "already in use" not in log_text:
                break
            _stop_data_dir(self.tempdir, self._user, remove_dir=False)
            log.unlink(missing_ok=True)
        raise RuntimeError(f"could not start PostgreSQL:\n{last_error}")


def _stop_data_dir(tempdir: Path, user: _OsUser | None, *, remove_dir: bool = False) -> None:
    """Immediate shutdown of the server whose data dir is ``tempdir/data``."""
    data = tempdir / "data"
    pidfile = data / "postmaster.pid"
    if not pidfile.exists():
        return
    if user is None:
        st = tempdir.stat()
        user = _OsUser(pwd.getpwuid(st.st_uid) if os.geteuid() == 0 and st.st_uid else None)
    bindir = find_bindir()
    if bindir is not None:
        with contextlib.suppress(OSError, subprocess.SubprocessError):
            user.run(
                [
                    str(bindir / "pg_ctl"),
                    "-D",
                    str(data),
                    "-m",
                    "immediate",
                    "-w",
                    "-t",
                    "30",
                    "stop",
                ],
                cwd=tempdir,
                timeout=60,
            )
    if pidfile.exists():  # pg_ctl missing or failed: kill the postmaster ourselves
        with contextlib.suppress(Exception):
            pid = int(pidfile.read_text().split()[0])
            os.kill(pid, signal.SIGQUIT)
            for _ in range(100):
                if not _pid_alive(pid):
                    break
                time.sleep(0.05)
            else:
                os.kill(pid, signal.SIGKILL)
    if remove_dir:
        shutil.rmtree(tempdir, ignore_errors=True)


def _reap_stale_servers() -> None:
    """Stop servers left behind by test sessions that died without cleaning up."""
    for base in dict.fromkeys([tempfile.gettempdir(), "/tmp"]):
        for path in glob.glob(os.path.join(base, TEMP_PREFIX + "*")):
            owner = Path(path, OWNER_FILE)
            try:
                pid = int(owner.read_text().strip())
            except (OSError, ValueError):
                continue
            if pid == os.getpid() or _pid_alive(pid):
                continue
            with contextlib.suppress(Exception):
                _stop_data_dir(Path(path), None, remove_dir=True)


# --------------------------------------------------------------------------
# Module-level convenience: one shared server per process
# --------------------------------------------------------------------------

_server: ThrowawayPostgres | None = None


def get_server() -> ThrowawayPostgres:
    """The shared server of this test session, started on first use.

    Raises :class:`PostgresNotFound` when no binaries exist (and no
    ``$TEST_DATABASE_URL_PG`` is set).
    """
    global _server
    if _server is None or not _server.running:
        server = ThrowawayPostgres()
        server.start()
        _server = server
    return _server


def stop_server() -> None:
    global _server
    if _server is not None:
        _server.stop()
        _server = None


def create_database(name: str | None = None) -> str:
    """Create a fresh empty database on the shared server; return its async URL."""
    return get_server().create_database(name)


def drop_database(name: str) -> None:
    get_server().drop_database(name)
