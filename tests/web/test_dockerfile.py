"""The Dockerfile, checked without a Docker engine: what it copies exists and is not ignored."""

from __future__ import annotations

import fnmatch
import json
import re
import shlex
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def instructions() -> list[tuple[str, str]]:
    text = (ROOT / "Dockerfile").read_text().replace("\\\n", " ")
    found = []
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            word, _, rest = line.partition(" ")
            found.append((word.upper(), rest.strip()))
    return found


def ignored(path: str) -> bool:
    patterns = [p.strip() for p in (ROOT / ".dockerignore").read_text().splitlines()
                if p.strip() and not p.startswith("#")]
    parts = Path(path).parts
    return any(fnmatch.fnmatch(path, p) or fnmatch.fnmatch(parts[0], p) for p in patterns)


def test_every_copied_path_exists_and_is_sent_to_the_build() -> None:
    copies = [shlex.split(rest) for word, rest in instructions() if word in ("COPY", "ADD")]
    assert copies
    for args in copies:
        sources = [a for a in args[:-1] if not a.startswith("--")]
        for source in sources:
            assert (ROOT / source).exists(), f"the Dockerfile copies {source}, which does not exist"
            assert not ignored(source), f".dockerignore leaves {source} out of the build context"


def test_the_package_installs_from_what_is_copied() -> None:
    copied = {s for word, rest in instructions() if word == "COPY" for s in shlex.split(rest)[:-1]}
    pyproject = (ROOT / "pyproject.toml").read_text()
    readme = re.search(r'^readme\s*=\s*"([^"]+)"', pyproject, re.M)
    assert {"pyproject.toml", "bot"} <= copied
    assert readme is None or readme.group(1) in copied


def test_it_runs_serve_as_a_non_root_user_with_the_database_on_a_volume() -> None:
    steps = dict(instructions())
    assert instructions()[0] == ("FROM", "python:3.11-slim")
    assert steps["USER"] not in ("root", "0")
    assert json.loads(steps["CMD"]) == ["rotation", "serve"]
    assert steps["VOLUME"] == "/data"
    assert steps["EXPOSE"] == "3000"
    assert "DATABASE_URL=sqlite+aiosqlite:////data/rotation.db" in steps["ENV"].split()
    assert "pip install ." in steps["RUN"]


def test_the_healthcheck_asks_healthz_with_plain_python() -> None:
    check = dict(instructions())["HEALTHCHECK"]
    command = json.loads(check[check.index("CMD") + 3:].strip())
    assert command[:2] == ["python", "-c"]
    compile(command[2], "healthcheck", "exec")
    assert "/healthz" in command[2] and "urllib" in command[2]
