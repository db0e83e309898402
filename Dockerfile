# The rotation bot: `docker build -t rotation .` then
#   docker run -p 3000:3000 -v rotation-data:/data -e ROTATION_INTAKE_TOKEN=... \
#     -e ROTATION_CONFIG=/app/examples/routing.yaml rotation
# Where Docker Hub can't be reached, docker/check-image.sh builds a local base with podman
# and passes it as --build-arg BASE_IMAGE=...; it also runs the image and checks it.
ARG BASE_IMAGE=python:3.11-slim

# Stage 1: our own code as a wheel, built by the pinned backend of docker/build-requirements.lock,
# then installed under /install. Only /install reaches the image: no sources, build/, egg-info
# or the wheel itself. (The same base in both stages, so the paths inside /install are right.)
FROM ${BASE_IMAGE} AS wheel
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_ROOT_USER_ACTION=ignore \
    PYTHONDONTWRITEBYTECODE=1
WORKDIR /src
COPY docker/build-requirements.lock ./
RUN pip install --require-hashes -r build-requirements.lock
COPY pyproject.toml README.md ./
COPY bot ./bot
RUN pip wheel --no-deps --no-build-isolation --wheel-dir /wheel . \
    && pip install --no-deps --root /install /wheel/*.whl

# Stage 2: the image.
FROM ${BASE_IMAGE}
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_ROOT_USER_ACTION=ignore

RUN useradd --uid 10001 --no-create-home --shell /usr/sbin/nologin rotation \
    && mkdir -p /data \
    && chown rotation /data

# The dependencies, exactly as locked, in a layer of their own: a code edit reuses it.
# The lock stays in the image as the record of what it holds.
WORKDIR /app
COPY requirements.lock ./
RUN pip install --require-hashes -r requirements.lock

# Our code, as installed in stage 1, checked against the lock. (Not RUN --mount=from=wheel:
# podman 4.3 reuses such a step after a code edit, and the image would keep the old code.)
COPY --from=wheel /install/ /
RUN pip check
COPY examples ./examples
COPY docker/entrypoint.py ./entrypoint.py

# The SQLite file lives on the volume; point DATABASE_URL at PostgreSQL to use that instead.
ENV DATABASE_URL=sqlite+aiosqlite:////data/rotation.db \
    HOST=0.0.0.0 \
    PORT=3000
VOLUME /data
WORKDIR /data
USER rotation
EXPOSE 3000

HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/healthz' % os.environ.get('PORT', '3000'), timeout=4)"]

# Says in one line how to fix a /data the user above can't write, then runs the command.
ENTRYPOINT ["python", "/app/entrypoint.py"]
CMD ["rotation", "serve"]
