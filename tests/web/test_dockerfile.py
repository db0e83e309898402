"""The image, checked without a container engine: the Dockerfile's text, the locks, the entrypoint.

docker/check-image.sh builds and runs the image for real (with podman); these tests cover what
can be known from the files alone, so a drift between pyproject.toml and the locks, a layer
order that reinstalls every dependency on a code edit, or a lost hint fails here first.
"""

from __future__ import annotations

import fnmatch
import importlib.util
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
import tomllib
from collections.abc import Iterator
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[2]
ENTRYPOINT = ROOT / "docker" / "entrypoint.py"
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())


def instructions() -> list[tuple[str, str]]:
    text = (ROOT / "Dockerfile").read_text().replace("\\\n", " ")
    found = []
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            word, _, rest = line.partition(" ")
            found.append((word.upper(), rest.strip()))
    return found


def stages() -> list[list[tuple[str, str]]]:
    """The instructions of each build stage, in order (a stage starts at its FROM)."""
    found: list[list[tuple[str, str]]] = []
    for word, rest in instructions():
        if word == "FROM":
            found.append([])
        if found:
            found[-1].append((word, rest))
    return found


def final_stage() -> list[tuple[str, str]]:
    return stages()[-1]


def ignored(path: str) -> bool:
    """Whether .dockerignore leaves `path` out of the build context: the last matching line wins,
    `!` lets a path back in, and a line that matches a folder matches everything under it."""
    patterns = [p.strip() for p in (ROOT / ".dockerignore").read_text().splitlines()
                if p.strip() and not p.strip().startswith("#")]
    parts = Path(path).parts
    prefixes = ["/".join(parts[:i]) for i in range(1, len(parts) + 1)]
    result = False
    for pattern in patterns:
        allow = pattern.startswith("!")
        pattern = pattern.lstrip("!")
        alternatives = {pattern, pattern.removeprefix("**/")}
        if any(fnmatch.fnmatchcase(prefix, alt) for prefix in prefixes for alt in alternatives):
            result = not allow
    return result


def locked(path: Path) -> dict[str, str]:
    """name -> pinned version of a hashed lock file, refusing an entry without == or a hash."""
    pins: dict[str, str] = {}
    for entry in re.split(r"\n(?=\S)", path.read_text()):
        if entry.startswith("#") or not entry.strip():
            continue
        requirement = entry.split()[0]
        assert "==" in requirement, f"{path.name}: {requirement} is not pinned with =="
        assert "--hash=sha256:" in entry, f"{path.name}: {requirement} has no hash"
        name, version = requirement.split("==")
        pins[canonicalize_name(name.split("[")[0])] = version
    return pins


def test_every_copied_path_exists_and_is_sent_to_the_build() -> None:
    copies = [shlex.split(rest) for word, rest in instructions() if word in ("COPY", "ADD")]
    assert copies
    for args in copies:
        if any(a.startswith("--from") for a in args):
            continue
        for source in [a for a in args[:-1] if not a.startswith("--")]:
            assert (ROOT / source).exists(), f"the Dockerfile copies {source}, which does not exist"
            assert not ignored(source), f".dockerignore leaves {source} out of the build context"


def test_local_state_and_secrets_stay_out_of_the_build_context() -> None:
    for path in (".env", "rotation.db", ".venv/bin/python", "tests/conftest.py", ".git/HEAD",
                 "bot/__pycache__/cli.cpython-311.pyc", "lead_rotation_bot.egg-info/PKG-INFO"):
        assert ignored(path), f"{path} would be sent to the build"
    assert not ignored("bot/cli.py") and not ignored("bot/store/migrations/env.py")


def test_the_wheel_is_built_in_its_own_stage_by_the_locked_backend() -> None:
    first, *_ = stages()
    assert len(stages()) == 2
    steps = [f"{word} {rest}" for word, rest in first]
    backend = steps.index("RUN pip install --require-hashes -r build-requirements.lock")
    built = next(i for i, step in enumerate(steps) if step.startswith("RUN pip wheel"))
    assert backend < built and "--no-build-isolation" in steps[built] and "--no-deps" in steps[built]
    assert "pip install --no-deps --root /install /wheel/*.whl" in steps[built]


def test_dependencies_are_installed_from_the_lock_before_any_code_arrives() -> None:
    steps = [f"{word} {rest}" for word, rest in final_stage()]
    lock = steps.index("RUN pip install --require-hashes -r requirements.lock")
    assert steps.index("COPY requirements.lock ./") < lock
    code = steps.index("COPY --from=wheel /install/ /")
    assert lock < code, "the code is installed before the dependencies: a code edit reinstalls them"
    assert steps[code + 1] == "RUN pip check"


def test_no_build_leftovers_reach_the_image() -> None:
    final = final_stage()
    for word, rest in final:
        if word in ("COPY", "ADD"):
            sources = shlex.split(rest)[:-1]
            assert not {"bot", "pyproject.toml", "."} & set(sources), f"{word} {rest} copies sources in"
            if any(s.startswith("--from") for s in sources):
                assert sources[1:] == ["/install/"], f"{word} {rest}: only the installed tree may come along"
        if word == "RUN":
            assert "--mount=type=bind,from=" not in rest, "podman 4.3 caches it across code edits"
            assert not re.search(r"pip install (\S+ )*\.(\s|$)", rest), "pip install . leaves build/"
    env = " ".join(rest for word, rest in final if word == "ENV").split()
    assert "PIP_NO_CACHE_DIR=1" in env


def test_the_lock_pins_every_dependency_of_pyproject_within_its_range() -> None:
    pins = locked(ROOT / "requirements.lock")
    for spec in PYPROJECT["project"]["dependencies"]:
        requirement = Requirement(spec)
        name = canonicalize_name(requirement.name)
        assert name in pins, f"{requirement.name} is not in requirements.lock: run docker/lock.sh"
        assert requirement.specifier.contains(pins[name], prereleases=True), (
            f"requirements.lock pins {name}=={pins[name]}, outside pyproject's {requirement.specifier}")


def test_the_lock_holds_what_the_extras_asked_for_bring() -> None:
    """SQLAlchemy[asyncio] needs greenlet: an extra's requirements must be locked too."""
    from importlib.metadata import requires

    pins = locked(ROOT / "requirements.lock")
    for spec in PYPROJECT["project"]["dependencies"]:
        requirement = Requirement(spec)
        for extra in requirement.extras:
            for dependency in map(Requirement, requires(requirement.name) or []):
                if dependency.marker and dependency.marker.evaluate({"extra": extra}) \
                        and not dependency.marker.evaluate({"extra": ""}):
                    assert canonicalize_name(dependency.name) in pins, (
                        f"{requirement.name}[{extra}] needs {dependency.name}, which requirements.lock lacks")


def test_the_build_lock_pins_the_build_backend() -> None:
    pins = locked(ROOT / "docker" / "build-requirements.lock")
    for spec in PYPROJECT["build-system"]["requires"]:
        requirement = Requirement(spec)
        name = canonicalize_name(requirement.name)
        assert name in pins and requirement.specifier.contains(pins[name]), (
            f"docker/build-requirements.lock does not satisfy {spec}: run docker/lock.sh")


def test_both_stages_start_from_the_base_image_argument() -> None:
    args = [rest for word, rest in instructions() if word == "ARG"]
    assert "BASE_IMAGE=python:3.11-slim" in args
    assert instructions()[0] == ("ARG", "BASE_IMAGE=python:3.11-slim")
    assert [stage[0][1].split()[0] for stage in stages()] == ["${BASE_IMAGE}", "${BASE_IMAGE}"]


def test_it_runs_serve_as_a_non_root_user_with_the_database_on_a_volume() -> None:
    steps = dict(final_stage())
    assert steps["USER"] not in ("root", "0")
    assert json.loads(steps["ENTRYPOINT"]) == ["python", "/app/entrypoint.py"]
    assert ("COPY", "docker/entrypoint.py ./entrypoint.py") in final_stage()
    assert json.loads(steps["CMD"]) == ["rotation", "serve"]
    assert steps["VOLUME"] == "/data"
    assert steps["EXPOSE"] == "3000"
    env = " ".join(rest for word, rest in final_stage() if word == "ENV").split()
    assert "DATABASE_URL=sqlite+aiosqlite:////data/rotation.db" in env


def test_the_healthcheck_asks_healthz_with_plain_python() -> None:
    check = dict(instructions())["HEALTHCHECK"]
    command = json.loads(check[check.index("CMD") + 3:].strip())
    assert command[:2] == ["python", "-c"]
    compile(command[2], "healthcheck", "exec")
    assert "/healthz" in command[2] and "urllib" in command[2]


# The entrypoint ---------------------------------------------------------------------------


def entrypoint_module():  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location("entrypoint", ENTRYPOINT)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_entrypoint_reads_the_sqlite_file_from_database_url() -> None:
    sqlite_file = entrypoint_module().sqlite_file
    assert sqlite_file("sqlite+aiosqlite:////data/rotation.db") == Path("/data/rotation.db")
    assert sqlite_file("sqlite:///rotation.db?timeout=5") == Path("rotation.db").absolute()
    for url in ("postgresql+asyncpg://u:p@db/rotation", "sqlite+aiosqlite:///:memory:", "sqlite://"):
        assert sqlite_file(url) is None, url


def test_only_commands_that_open_the_database_are_checked() -> None:
    opens_database = entrypoint_module().opens_database
    assert opens_database(["rotation", "serve"])
    assert opens_database(["/usr/local/bin/rotation", "import", "leads.csv"])
    assert opens_database(["rotation", "config", "apply", "routing.yaml"])
    assert not opens_database(["rotation", "config", "check", "routing.yaml"])
    assert not opens_database(["rotation", "--help"])
    assert not opens_database(["sh", "-c", "rotation serve"])


@pytest.fixture
def shared_dir() -> Iterator[Path]:
    """A folder in /tmp that another user can enter (pytest's tmp_path is private to its user)."""
    folder = Path(tempfile.mkdtemp(prefix="rotation-entrypoint-"))
    folder.chmod(0o755)
    shutil.copy(ENTRYPOINT, folder / "entrypoint.py")
    yield folder
    shutil.rmtree(folder)


def runs_as_nobody(python: str) -> bool:
    try:
        return subprocess.run([python, "-c", "pass"], user=65534, capture_output=True).returncode == 0
    except OSError:  # a Python under a folder that nobody may not enter (/root)
        return False


def as_another_user(python_args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """Run Python as a user who does not own the test's folders: nobody when we are root (who may
    write anywhere), else ourselves (the folders are then made read-only for us)."""
    if os.geteuid() != 0:
        return subprocess.run([sys.executable, *python_args], env=env, capture_output=True, text=True)
    for python in (sys.executable, "/usr/bin/python3"):
        if runs_as_nobody(python):
            return subprocess.run([python, *python_args], env=env, capture_output=True, text=True,
                                  user=65534, group=65534, extra_groups=[])
    pytest.skip("no Python here that the user nobody may run")


def test_a_data_folder_the_user_cannot_write_gets_a_one_line_fix(shared_dir: Path) -> None:
    data = shared_dir / "data"
    data.mkdir(mode=0o555)
    env = {"PATH": os.environ["PATH"], "DATABASE_URL": f"sqlite+aiosqlite:///{data}/rotation.db"}
    ran = as_another_user([str(shared_dir / "entrypoint.py"), "rotation", "serve"], env)
    uid = 65534 if os.geteuid() == 0 else os.getuid()
    assert ran.returncode == 1
    assert ran.stderr == (f"error: the database directory {data} is not writable by uid {uid} (it belongs "
                          f"to uid {data.stat().st_uid}): chown the volume to {uid}, or run with --user "
                          f"{data.stat().st_uid}\n")
    assert list(data.iterdir()) == []


def test_a_database_file_the_user_cannot_write_gets_a_one_line_fix(shared_dir: Path) -> None:
    data = shared_dir / "data"
    data.mkdir(mode=0o777)
    data.chmod(0o777)
    (data / "rotation.db").write_bytes(b"")
    (data / "rotation.db").chmod(0o444)
    env = {"PATH": os.environ["PATH"], "DATABASE_URL": f"sqlite+aiosqlite:///{data}/rotation.db"}
    ran = as_another_user([str(shared_dir / "entrypoint.py"), "rotation", "import", "x.csv"], env)
    assert ran.returncode == 1
    assert ran.stderr.startswith(f"error: the database file {data}/rotation.db is not writable by uid ")
    assert ran.stderr.count("\n") == 1


def test_a_read_only_mount_is_named_as_such(shared_dir: Path) -> None:
    if shutil.which("unshare") is None:
        pytest.skip("unshare (util-linux) is not installed")
    data = shared_dir / "data"
    data.mkdir()
    mount = ["unshare", "-m"] if os.geteuid() == 0 else ["unshare", "-rm"]
    script = (f"mount -t tmpfs -o ro tmpfs {data} || exit 99; "
              f"exec {shlex.quote(sys.executable)} {shared_dir / 'entrypoint.py'} rotation serve")
    env = {"PATH": os.environ["PATH"], "DATABASE_URL": f"sqlite+aiosqlite:///{data}/rotation.db"}
    ran = subprocess.run([*mount, "sh", "-c", script], env=env, capture_output=True, text=True)
    if ran.returncode == 99 or "unshare failed" in ran.stderr:
        pytest.skip(f"cannot make a read-only mount here: {ran.stderr.strip()}")
    assert ran.returncode == 1
    assert ran.stderr == (f"error: the database directory {data} is on a read-only mount: mount the volume "
                          "read-write (without :ro), or point DATABASE_URL elsewhere\n")


def test_a_writable_data_folder_runs_the_command_itself(tmp_path: Path) -> None:
    """The check passes and the real `rotation` runs: it creates and migrates the database."""
    rotation = Path(sys.executable).with_name("rotation")
    env = {**os.environ, "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path}/rotation.db"}
    ran = subprocess.run([sys.executable, str(ENTRYPOINT), str(rotation), "config", "export"],
                         env=env, capture_output=True, text=True, cwd=tmp_path)
    assert "is not writable" not in ran.stderr
    assert (tmp_path / "rotation.db").stat().st_size > 0, ran.stderr


def test_a_command_that_does_not_exist_is_named(tmp_path: Path) -> None:
    ran = subprocess.run([sys.executable, str(ENTRYPOINT), "no-such-command-here"],
                         capture_output=True, text=True, cwd=tmp_path)
    assert ran.returncode == 1
    assert ran.stderr == "error: cannot run no-such-command-here: No such file or directory\n"


def test_the_image_scripts_are_executable_shell_that_parses() -> None:
    for script in ("check-image.sh", "make-base-image.sh", "lock.sh"):
        path = ROOT / "docker" / script
        assert os.access(path, os.X_OK), f"docker/{script} is not executable"
        parsed = subprocess.run(["sh", "-n", str(path)], capture_output=True, text=True)
        assert parsed.returncode == 0, f"docker/{script}: {parsed.stderr}"
