"""The image's entrypoint: say in one line how to fix a database volume the image's user can't write.

Without it, a volume owned by root (a bind mount of a fresh host folder) or mounted `:ro`
ends in SQLite's "unable to open database file", which names neither the folder, nor the
user, nor the fix. So before a `rotation` command that opens the database, check the SQLite
file's directory (and the file, if it exists) from DATABASE_URL, then exec the command as
given: signals and the exit code stay the command's own. PostgreSQL URLs are not checked.

Standard library only, so it runs before (and apart from) the package it starts.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///rotation.db"  # the bot's own default (bot/store/db.py)


def sqlite_file(url: str) -> Path | None:
    """The SQLite file a URL names, made absolute; None for other databases and in-memory ones."""
    scheme, sep, rest = url.partition("://")
    if not sep or scheme.split("+")[0] != "sqlite":
        return None
    path = rest.partition("/")[2].partition("?")[0]  # sqlite:///FILE: no host, then the path
    if not path or path == ":memory:" or path.startswith("file:"):
        return None
    return Path(path).absolute()


def unwritable(file: Path) -> str | None:
    """What keeps this process from writing the SQLite file (one line with the fix), or None."""
    folder = file.parent
    if not folder.is_dir():
        return None  # `rotation` itself says the directory does not exist
    uid = os.getuid()
    if not os.access(folder, os.W_OK | os.X_OK):
        if os.statvfs(folder).f_flag & os.ST_RDONLY:
            return (f"the database directory {folder} is on a read-only mount: mount the volume "
                    "read-write (without :ro), or point DATABASE_URL elsewhere")
        owner = folder.stat().st_uid
        return (f"the database directory {folder} is not writable by uid {uid} (it belongs to uid "
                f"{owner}): chown the volume to {uid}, or run with --user {owner}")
    if file.exists() and not os.access(file, os.R_OK | os.W_OK):
        owner = file.stat().st_uid
        return (f"the database file {file} is not writable by uid {uid} (it belongs to uid {owner}): "
                f"chown it to {uid}, or run with --user {owner}")
    return None


def opens_database(argv: list[str]) -> bool:
    """Whether this command line is a `rotation` command that opens the database."""
    if not argv or Path(argv[0]).name != "rotation" or len(argv) == 1 or "--help" in argv:
        return False
    return argv[1:3] != ["config", "check"]


def main(argv: list[str]) -> None:
    if not argv:
        sys.exit("error: no command to run")
    if opens_database(argv):
        file = sqlite_file(os.environ.get("DATABASE_URL") or DEFAULT_DATABASE_URL)
        problem = unwritable(file) if file else None
        if problem:
            print(f"error: {problem}", file=sys.stderr)
            sys.exit(1)
    try:
        os.execvp(argv[0], argv)
    except OSError as error:
        sys.exit(f"error: cannot run {argv[0]}: {error.strerror}")


if __name__ == "__main__":
    main(sys.argv[1:])
