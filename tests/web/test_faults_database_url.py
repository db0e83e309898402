"""Attack on the operator's secrets: a DATABASE_URL that does not parse, or names a database
that cannot be reached, is reported in words, with its password never printed."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from serve_process import ROOT

PASSWORD = "hunter2-Secret"
URLS = {
    "a port that is not a number": f"postgresql://admin:{PASSWORD}@db.example:port/rotation",
    "a space in the scheme": f"postgres ql://admin:{PASSWORD}@db.example/rotation",
    "a password and no host": f"postgresql://admin:{PASSWORD}",
    "an unencoded @ and / in the password": f"postgresql://admin:a@b/{PASSWORD}@127.0.0.1:1/rotation",
    "an unreachable server": f"postgresql+asyncpg://admin:{PASSWORD}@127.0.0.1:1/rotation",
    "a password in the query": f"postgresql://127.0.0.1:1/rotation?user=admin&password={PASSWORD}",
    "a driver we do not ship": f"mysql://admin:{PASSWORD}@db.example/rotation",
    "unbalanced brackets": f"postgresql://admin:{PASSWORD}@[::1/rotation",
}


def run(command: list[str], database_url: str) -> subprocess.CompletedProcess[str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith(("ROTATION_", "SLACK_"))}
    env |= {"DATABASE_URL": database_url, "PYTHONPATH": str(ROOT), "HOST": "127.0.0.1", "PORT": "0"}
    return subprocess.run([sys.executable, "-m", "bot", *command], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=60, check=False)


@pytest.mark.parametrize("url", URLS.values(), ids=URLS.keys())
@pytest.mark.parametrize("command", [["config", "export"], ["serve"]], ids=["config export", "serve"])
def test_a_bad_database_url_never_prints_its_password(command: list[str], url: str) -> None:
    """Attack: DATABASE_URL values that break parsers or connections, with a password in them."""
    done = run(command, url)
    said = done.stdout + done.stderr
    assert done.returncode == 1, said
    assert "DATABASE_URL" in said or "database" in said, said
    assert PASSWORD not in said and "Secret" not in said, said
    assert "Traceback" not in said, said
