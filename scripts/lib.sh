# Helpers shared by scripts/*.sh. Source it: it turns on strict mode and sets ROOT, VAR, LOGDIR.
# shellcheck shell=bash
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
VAR=$ROOT/var
LOGDIR=$VAR/log
PATH=$PATH:/usr/local/sbin:/usr/sbin:/sbin # dockerd, pg_ctlcluster, runuser live here
# var/ is private to the orchestrator's user (0700): a script run by another user (one that only
# checks and explains, like images.sh without root) must not die creating a log directory it won't use.
mkdir -p "$LOGDIR" 2>/dev/null || true

log() { printf '%s: %s\n' "${0##*/}" "$*" >&2; }
die() { log "error: $*"; exit 1; }

# need_root WHAT: when not root, fail with one line saying what is missing and how to get it.
need_root() {
  [[ $EUID -eq 0 ]] || die "$* -- this needs root: re-run as root (sudo $0), or do it by hand"
}

# missing_pkgs PKG...: print the Debian packages among PKG that are not installed.
missing_pkgs() {
  local installed
  installed=$(dpkg-query -W -f='${db:Status-Abbrev} ${Package}\n' "$@" 2>/dev/null | awk '$1 == "ii" {print $2}' || true)
  local p
  for p in "$@"; do grep -qxF "$p" <<<"$installed" || echo "$p"; done
}

# apt_install PKG...: install packages; `apt-get update` runs at most once per run (the flag is
# exported so scripts started from this one do not update again).
apt_install() {
  (($#)) || return 0
  need_root "missing packages: $* (apt-get install -y $*)"
  export DEBIAN_FRONTEND=noninteractive
  if [[ -z ${APT_UPDATED:-} ]]; then
    log "apt-get update"
    apt-get update -qq
    export APT_UPDATED=1
  fi
  log "apt-get install -y $*"
  apt-get install -y -qq "$@" >/dev/null
}

# ensure_pkgs PKG...: install those of PKG that are missing.
ensure_pkgs() {
  local -a missing
  mapfile -t missing < <(missing_pkgs "$@")
  apt_install "${missing[@]}"
}

# port_open HOST PORT
port_open() { (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null; }

# http_status HOST PORT PATH: print the HTTP status code (empty when nothing answers).
http_status() {
  (
    exec 3<>"/dev/tcp/$1/$2" || exit 0
    printf 'GET %s HTTP/1.0\r\nHost: %s:%s\r\n\r\n' "$3" "$1" "$2" >&3
    read -r -t 5 _ code _ <&3 && echo "$code"
  ) 2>/dev/null || true
}

# wait_for SECONDS CMD...: run CMD every 0.2 s until it succeeds; fail after SECONDS.
wait_for() {
  local deadline=$((SECONDS + $1))
  shift
  until "$@"; do
    ((SECONDS < deadline)) || return 1
    sleep 0.2
  done
}

# daemon LOGFILE CMD...: start CMD detached (own session, survives this script), output to LOGFILE.
daemon() {
  local logfile=$1
  shift
  setsid nohup "$@" >>"$logfile" 2>&1 </dev/null &
}
