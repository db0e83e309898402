#!/bin/sh
# Build the image with podman, run it, and check what we promise of it:
#   sudo apt-get install -y podman runc debootstrap && sudo docker/check-image.sh
#
# - the base: BASE_IMAGE if given (e.g. python:3.11-slim where Docker Hub is reachable), else
#   docker/make-base-image.sh makes localhost/debian-python:3.11 once (about 70 s);
# - the build, then a rebuild after a code edit (in a copy of the tree), which must reuse
#   the dependency layer;
# - no build leftovers in the image; it runs as uid 10001;
# - the container serves: /healthz answers, a lead POSTed to /leads is assigned (201),
#   the HEALTHCHECK passes, and SIGTERM stops it with exit code 0;
# - a read-only /data and a /data owned by root each get their one-line hint.
# Prints the figures (build times, image size) at the end. Exits 1 at the first failed check.
set -eu
cd "$(dirname "$0")/.."

BASE_IMAGE=${BASE_IMAGE:-localhost/debian-python:3.11}
IMAGE=${IMAGE:-localhost/rotation:check}
PORT=${CHECK_PORT:-38080}
NAME=rotation-check-$$
# runc: Debian's podman otherwise wants crun. The explicit limits: some sandboxes refuse
# podman's defaults ("error setting rlimit type 7: operation not permitted").
PODMAN="podman --runtime ${PODMAN_RUNTIME:-runc}"
LIMITS="--ulimit nofile=4096:4096 --ulimit nproc=4096:4096"

work=$(mktemp -d)
cleanup() {
    $PODMAN rm -f "$NAME" >/dev/null 2>&1 || true
    [ -n "${failed:-}" ] || rm -rf "$work"  # after a failure, the logs stay for a look
}
trap cleanup EXIT

fail() { failed=1; echo "FAILED: $*" >&2; exit 1; }
ok() { echo "ok: $*"; }
seconds() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(seconds)" 'BEGIN { printf "%.1f s", b - a }'; }

command -v podman >/dev/null || fail "podman is not installed: apt-get install -y podman runc"
if ! $PODMAN image exists "$BASE_IMAGE"; then
    case $BASE_IMAGE in
        localhost/debian-python:3.11) docker/make-base-image.sh "$BASE_IMAGE" ;;
        *) $PODMAN pull "$BASE_IMAGE" >/dev/null || fail "cannot pull $BASE_IMAGE" ;;
    esac
fi

build() {  # build CONTEXT LOG [OPTION]: the image from CONTEXT, its output in LOG
    $PODMAN build ${3:-} --format docker --build-arg BASE_IMAGE="$BASE_IMAGE" -t "$IMAGE" \
        -f "$1/Dockerfile" "$1" >"$2" 2>&1 || { tail -30 "$2" >&2; fail "podman build (log above)"; }
}

# A step's cache use: the line after "STEP n/m: <instruction>" is "--> Using cache" or not.
cached() {
    grep -q -F "STEP" "$1" && grep -F "STEP" "$1" | grep -q -F "$2" || fail "no step '$2' in the build"
    grep -A1 -F "STEP" "$1" | grep -A1 -F "$2" | grep -q "Using cache"
}

start=$(seconds)
build . "$work/build.log" --no-cache
first_build=$(since "$start")
ok "built $IMAGE on $BASE_IMAGE in $first_build"

mkdir "$work/tree"
git ls-files -z | xargs -0 tar -c | tar -C "$work/tree" -x
edit="# a code edit made by docker/check-image.sh at $(seconds)"
echo "$edit" >>"$work/tree/bot/__init__.py"
start=$(seconds)
build "$work/tree" "$work/rebuild.log"
code_build=$(since "$start")
cached "$work/rebuild.log" "RUN pip install --require-hashes -r requirements.lock" \
    || fail "a code edit reinstalled the dependencies (see the rebuild's log: $work/rebuild.log)"
cached "$work/rebuild.log" "COPY bot ./bot" && fail "the rebuild did not see the code edit"
$PODMAN run --rm $LIMITS --entrypoint python "$IMAGE" -c 'import inspect, bot; print(inspect.getsource(bot))' \
    2>>"$work/podman.err" | grep -q -F "$edit" || fail "the rebuilt image still holds the code before the edit"
ok "rebuilt after a code edit in $code_build: the dependency layer reused, the edit in the image"
build . "$work/build.log"  # back to the tree as it is

size=$($PODMAN image inspect --format '{{.Size}}' "$IMAGE" | awk '{ printf "%.0f MB", $1 / 1e6 }')
base_size=$($PODMAN image inspect --format '{{.Size}}' "$BASE_IMAGE" | awk '{ printf "%.0f MB", $1 / 1e6 }')

leftovers=$($PODMAN run --rm $LIMITS --entrypoint sh "$IMAGE" -c '
    find / -xdev \( -name "lead_rotation_bot*.egg-info" -o -name "*.whl" -o -path "*/.cache/pip" \
        -o -path /app/build -o -path /src -o -path /wheel \) -print 2>/dev/null; ls -A /tmp' 2>>"$work/podman.err")
[ -z "$leftovers" ] || fail "build leftovers in the image: $leftovers"
ok "no build leftovers (egg-info, wheels, pip cache, /src, /tmp)"
user=$($PODMAN run --rm $LIMITS --entrypoint id "$IMAGE" -u 2>>"$work/podman.err")
[ "$user" = 10001 ] || fail "the image runs as uid $user, not 10001"
ok "runs as uid 10001"

$PODMAN run -d --name "$NAME" $LIMITS -p "127.0.0.1:$PORT:3000" \
    -e ROTATION_INTAKE_TOKEN=check-token -e ROTATION_CONFIG=/app/examples/routing.yaml \
    "$IMAGE" >/dev/null 2>"$work/podman.err" || { cat "$work/podman.err" >&2; fail "podman run"; }
tries=0
until curl -fsS "http://127.0.0.1:$PORT/healthz" >"$work/healthz" 2>/dev/null; do
    tries=$((tries + 1))
    [ "$tries" -lt 60 ] || { $PODMAN logs "$NAME" >&2; fail "/healthz did not answer within 60 tries"; }
    sleep 1
done
grep -q '"ok"' "$work/healthz" || fail "/healthz answered $(cat "$work/healthz")"
ok "/healthz: $(cat "$work/healthz")"

status=$(curl -sS -o "$work/lead.json" -w '%{http_code}' -X POST "http://127.0.0.1:$PORT/leads" \
    -H 'Authorization: Bearer check-token' -H 'Content-Type: application/json' \
    -d '{"id": "CHECK-1", "country": "US", "employees": 12}')
[ "$status" = 201 ] || fail "POST /leads answered $status: $(cat "$work/lead.json")"
grep -q '"status": "assigned"' "$work/lead.json" || fail "the lead was not assigned: $(cat "$work/lead.json")"
ok "POST /leads: 201, $(grep -o '"assignee": {[^}]*}' "$work/lead.json")"

$PODMAN healthcheck run "$NAME" >/dev/null 2>&1 || fail "the image's HEALTHCHECK failed"
ok "the HEALTHCHECK passes"
$PODMAN stop -t 20 "$NAME" >/dev/null 2>&1
code=$($PODMAN inspect --format '{{.State.ExitCode}}' "$NAME")
[ "$code" = 0 ] || { $PODMAN logs "$NAME" >&2; fail "SIGTERM ended serve with exit code $code"; }
ok "SIGTERM stops it cleanly (exit code 0)"

hint() {  # hint VOLUME EXPECTED: serve on that /data exits 1 with EXPECTED in its one line
    if $PODMAN run --rm $LIMITS -v "$1" "$IMAGE" >"$work/out" 2>"$work/err"; then
        fail "serve started on an unusable /data ($1)"
    fi
    grep -v 'level=' "$work/err" >"$work/hint" || true  # podman's own complaints (no systemd)
    grep -q -F "$2" "$work/hint" || fail "no hint for $1: $(cat "$work/hint")"
    [ "$(wc -l <"$work/hint")" = 1 ] || fail "the hint for $1 is not one line: $(cat "$work/hint")"
    ok "$(cat "$work/hint")"
}
mkdir "$work/ro" "$work/root-owned"
hint "$work/ro:/data:ro" "is on a read-only mount"
hint "$work/root-owned:/data" "is not writable by uid 10001"

echo "figures: first build $first_build, code-only rebuild $code_build," \
    "image $size (base $base_size), podman $(podman --version | awk '{ print $3 }')"
