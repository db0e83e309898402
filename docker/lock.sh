#!/bin/sh
# Refresh the image's lock files after a change to pyproject.toml (or to take newer releases):
#   pip install uv && docker/lock.sh
# requirements.lock pins every runtime dependency in [project] dependencies, with hashes;
# docker/build-requirements.lock pins [build-system] requires, which build our wheel.
# Both are resolved for Python 3.11, the image's Python; tests/web/test_dockerfile.py checks
# that they still cover pyproject.toml.
set -eu
cd "$(dirname "$0")/.."

uv pip compile pyproject.toml --quiet --generate-hashes --python-version 3.11 \
    --custom-compile-command "docker/lock.sh" -o requirements.lock
python3 -c 'import tomllib; print("\n".join(tomllib.load(open("pyproject.toml", "rb"))["build-system"]["requires"]))' \
    | uv pip compile - --quiet --generate-hashes --python-version 3.11 \
        --custom-compile-command "docker/lock.sh" -o docker/build-requirements.lock
echo "wrote requirements.lock and docker/build-requirements.lock"
