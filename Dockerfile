# The rotation bot: `docker build -t rotation .` then
#   docker run -p 3000:3000 -v rotation-data:/data -e ROTATION_INTAKE_TOKEN=... \
#     -e ROTATION_CONFIG=/app/examples/routing.yaml rotation
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app
COPY pyproject.toml README.md ./
COPY bot ./bot
RUN pip install . \
    && useradd --system --uid 10001 --no-create-home --shell /usr/sbin/nologin rotation \
    && mkdir -p /data \
    && chown rotation /data
COPY examples ./examples

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

CMD ["rotation", "serve"]
