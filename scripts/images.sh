#!/usr/bin/env bash
# Build the images the production stack (compose.yaml) runs, on a local Debian base: no image registry needed.
#
#   scripts/images.sh [NAME...]     NAME: base app postgres redis haproxy nginx (default: the stack's five)
#
# base      orchestrator-base:bookworm: `debootstrap --variant=minbase bookworm` from this machine's
#           Debian mirror, then `docker import`. Built once and kept (delete the image to rebuild it).
# app       $APP_IMAGE (orchestrator:latest) from ./Dockerfile with BASE_IMAGE=the local base.
# postgres  orchestrator-postgres:15, redis orchestrator-redis:7, haproxy orchestrator-haproxy:2.6,
# nginx     orchestrator-nginx:bookworm (a real web server for tests; see images/nginx/Dockerfile):
#           Debian's packages on the base, from images/NAME/Dockerfile.
#
# Each built image's name is printed on stdout, progress on stderr. Docker's layer cache makes a
# rebuild of an unchanged image take a second or two. Environment: DEBIAN_MIRROR (default: the
# first bookworm mirror in /etc/apt/sources*), BASE_IMAGE, APP_IMAGE; DEBOOTSTRAP and APT_SOURCES
# (the debootstrap command, the apt configuration directory) let the tests take them away.
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "$0")/lib.sh"

BASE_IMAGE=${BASE_IMAGE:-orchestrator-base:bookworm}
APP_IMAGE=${APP_IMAGE:-orchestrator:latest}
SUITE=bookworm
DEBOOTSTRAP=${DEBOOTSTRAP:-debootstrap}
APT_SOURCES=${APT_SOURCES:-/etc/apt} # where the machine's mirror is configured
declare -A SERVICE_IMAGES=(
  [postgres]=orchestrator-postgres:15
  [redis]=orchestrator-redis:7
  [haproxy]=orchestrator-haproxy:2.6
  [nginx]=orchestrator-nginx:bookworm
)
# The legacy builder: it needs no buildx plugin (Debian's docker.io ships none) and reads FROM the local base.
export DOCKER_BUILDKIT=0

image_exists() { docker image inspect "$1" >/dev/null 2>&1; }

# The first http(s) mirror that serves $SUITE in this machine's apt sources (deb822 or one-line format).
configured_mirror() {
  local f
  for f in "$APT_SOURCES"/sources.list.d/*.sources; do
    [[ -f $f ]] || continue
    awk -v suite="$SUITE" '
      /^[[:space:]]*$/ { if (uris != "" && has) { print uris; exit } uris = ""; has = 0; next }
      tolower($1) == "uris:" { uris = $2 }
      tolower($1) == "suites:" { for (i = 2; i <= NF; i++) if ($i == suite) has = 1 }
      END { if (uris != "" && has) print uris }' "$f" | head -n1
  done
  cat "$APT_SOURCES"/sources.list "$APT_SOURCES"/sources.list.d/*.list 2>/dev/null |
    awk -v suite="$SUITE" '$1 == "deb" { for (i = 2; i <= NF; i++) if ($i !~ /^\[/) { if ($(i + 1) == suite) print $i; break } }'
}

mirror() {
  local m=${DEBIAN_MIRROR:-}
  [[ -n $m ]] || m=$(configured_mirror | grep -m1 -E '^https?://' || true)
  [[ -n $m ]] || die "no Debian mirror for $SUITE in $APT_SOURCES/sources.list*; set DEBIAN_MIRROR=http://... to build the base image"
  echo "${m%/}"
}

mirror_answers() { # mirror_answers URL: its Release file for $SUITE can be fetched
  python3 - "$1/dists/$SUITE/Release" <<'PY' 2>/dev/null
import sys, urllib.request
urllib.request.urlopen(sys.argv[1], timeout=15).read(64)
PY
}

build_base() {
  image_exists "$BASE_IMAGE" && return 0
  # What the build needs, each missing piece one line, before anything is made.
  local m
  m=$(mirror)
  if ! command -v "$DEBOOTSTRAP" >/dev/null; then
    [[ $EUID -eq 0 ]] || die "debootstrap is not installed and this is not root: as root, apt-get install -y debootstrap and re-run (or load a $BASE_IMAGE image built elsewhere)"
    apt_install debootstrap
  fi
  [[ $EUID -eq 0 ]] || die "building $BASE_IMAGE runs debootstrap, which needs root: re-run as root (sudo $0)"
  mirror_answers "$m" || die "the Debian mirror $m does not answer ($m/dists/$SUITE/Release); set DEBIAN_MIRROR to one that does"
  # One base build per machine at a time; a second caller waits and then finds the image.
  exec 8>/var/tmp/orchestrator-base.lock
  flock 8
  image_exists "$BASE_IMAGE" && return 0
  local rootfs started=$SECONDS
  rootfs=$(mktemp -d /var/tmp/orchestrator-base.XXXXXX)
  # shellcheck disable=SC2064 # expand now: the trap must remove this run's directory
  trap "rm -rf '$rootfs'" EXIT
  log "debootstrap --variant=minbase $SUITE from $m (log: $LOGDIR/debootstrap.log)"
  "$DEBOOTSTRAP" --variant=minbase "$SUITE" "$rootfs" "$m" >"$LOGDIR/debootstrap.log" 2>&1 ||
    die "debootstrap failed (last line: $(tail -n1 "$LOGDIR/debootstrap.log")); see $LOGDIR/debootstrap.log"
  # Like Debian's own container images: no docs or man pages, no recommends, no apt lists in the image.
  cat >"$rootfs/etc/apt/sources.list" <<SOURCES
deb $m $SUITE main
deb $m $SUITE-updates main
SOURCES
  cp "$ROOT/images/base/dpkg-nodoc" "$rootfs/etc/dpkg/dpkg.cfg.d/docker-nodoc"
  cp "$ROOT/images/base/apt-slim" "$rootfs/etc/apt/apt.conf.d/docker-slim"
  rm -rf "$rootfs"/var/lib/apt/lists/* "$rootfs"/var/cache/apt/*.bin "$rootfs"/var/cache/apt/archives/*.deb \
    "$rootfs"/usr/share/man/* "$rootfs"/usr/share/info/*
  # docker import tags the image only once the whole tar is in: a failed run leaves no image behind.
  tar --numeric-owner -C "$rootfs" -c . | docker import \
    --change 'ENV LANG=C.UTF-8 PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change 'CMD ["bash"]' \
    --change "LABEL org.opencontainers.image.title=$BASE_IMAGE org.opencontainers.image.source=debootstrap:$m" \
    - "$BASE_IMAGE" >/dev/null
  rm -rf "$rootfs"
  trap - EXIT
  log "built $BASE_IMAGE in $((SECONDS - started)) s"
}

# The app's wheels, fetched by the host's pip into wheelhouse/ (kept), so that the image build
# installs offline with whatever index, proxy and CA settings this machine's pip has (a build
# container has none of them). The pip runs on Debian's python3, the one the image runs too, so
# the same environment markers pick the same packages.
wheelhouse() {
  local venv=$VAR/pip-bookworm started=$SECONDS out
  if [[ ! -x $venv/bin/pip ]]; then
    /usr/bin/python3 -c 'import ensurepip' 2>/dev/null || ensure_pkgs python3-venv
    /usr/bin/python3 -m venv "$venv"
  fi
  out=$(mktemp)
  if ! "$venv/bin/pip" wheel -q --disable-pip-version-check -w "$ROOT/wheelhouse" -r "$ROOT/requirements.txt" >"$out" 2>&1; then
    cat "$out" >&2
    rm -f "$out"
    die "pip could not fetch the app's requirements into wheelhouse/ (output above)"
  fi
  rm -f "$out"
  log "wheelhouse/ ready in $((SECONDS - started)) s"
}

build() { # build IMAGE CONTEXT [DOCKERFILE]: docker build with the local base
  local image=$1 context=$2 dockerfile=${3:-$2/Dockerfile} started=$SECONDS out
  out=$(mktemp)
  if ! docker build -q --build-arg "BASE_IMAGE=$BASE_IMAGE" -t "$image" -f "$dockerfile" "$context" >"$out" 2>&1; then
    cat "$out" >&2
    rm -f "$out"
    die "building $image failed (output above)"
  fi
  rm -f "$out"
  log "built $image in $((SECONDS - started)) s"
  echo "$image"
}

names=("$@")
((${#names[@]})) || names=(app postgres redis haproxy)
for name in "${names[@]}"; do
  case $name in
  base | app | postgres | redis | haproxy | nginx) ;;
  *) die "unknown image '$name' (one of: base app postgres redis haproxy nginx)" ;;
  esac
done

"$ROOT/scripts/ensure-engine.sh"
# Debian's docker-compose runs the stack these images are for.
if [[ $EUID -eq 0 ]]; then
  ensure_pkgs docker-compose
elif ! command -v docker-compose >/dev/null; then
  log "note: docker-compose is not installed (as root: apt-get install -y docker-compose)"
fi
build_base
for name in "${names[@]}"; do
  case $name in
  base) echo "$BASE_IMAGE" ;;
  app) wheelhouse && build "$APP_IMAGE" "$ROOT" ;;
  *) build "${SERVICE_IMAGES[$name]}" "$ROOT/images/$name" ;;
  esac
done
