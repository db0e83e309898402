#!/bin/sh
# Make a local stand-in for python:3.11-slim where Docker Hub can't be reached: Debian 12
# (the official image's own base) with Debian's Python 3.11 and pip, imported into podman.
#
#   sudo docker/make-base-image.sh [IMAGE]      # default localhost/debian-python:3.11
#
# Needs root, debootstrap and podman (apt-get install -y debootstrap podman) and a Debian
# mirror (MIRROR, default http://deb.debian.org/debian). Takes about a minute and a half.
# It is not the official image: Python is Debian's 3.11, at /usr/bin, and pip installs into
# /usr/local. Our Dockerfile only needs `python`, `pip`, `sh` and `useradd`, which both have.
set -eu

IMAGE=${1:-localhost/debian-python:3.11}
MIRROR=${MIRROR:-http://deb.debian.org/debian}

if [ "$(id -u)" != 0 ]; then
    echo "error: debootstrap needs root: run it with sudo" >&2
    exit 1
fi
for tool in debootstrap podman; do
    command -v "$tool" >/dev/null || { echo "error: $tool is not installed: apt-get install -y $tool" >&2; exit 1; }
done

root=$(mktemp -d /var/tmp/python-base.XXXXXX)
trap 'rm -rf "$root"' EXIT

debootstrap --variant=minbase --include=python3,python3-pip,python-is-python3,ca-certificates \
    bookworm "$root" "$MIRROR" >"$root.log" 2>&1 \
    || { tail -20 "$root.log" >&2; rm -f "$root.log"; echo "error: debootstrap failed (log above)" >&2; exit 1; }
rm -f "$root.log"

# Behind a TLS-intercepting proxy pip must trust what this machine trusts; a no-op elsewhere.
if ls /usr/local/share/ca-certificates/*.crt >/dev/null 2>&1; then
    cp /usr/local/share/ca-certificates/*.crt "$root/usr/local/share/ca-certificates/"
    chroot "$root" update-ca-certificates >/dev/null 2>&1
fi

# Like the official image: pip may install into the system Python, nothing cached, no docs.
rm -f "$root"/usr/lib/python3.*/EXTERNALLY-MANAGED
rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/* "$root"/usr/share/doc/* \
    "$root"/usr/share/man/* "$root"/usr/share/locale/* "$root"/var/log/*

tar -C "$root" -c . | podman import --quiet \
    --change 'CMD ["python3"]' --change 'ENV LANG=C.UTF-8' - "$IMAGE" >/dev/null
echo "made $IMAGE ($(podman image inspect --format '{{.Size}}' "$IMAGE" | awk '{printf "%.0f MB", $1/1e6}'))"
