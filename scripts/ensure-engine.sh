#!/usr/bin/env bash
# Make sure a Docker engine answers `docker info` and busybox-static (used to build the demo
# image) is installed. A running engine is left alone; otherwise docker.io is installed if
# missing and dockerd is started in the background (log: var/log/dockerd.log).
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "$0")/lib.sh"

engine_up() { docker info >/dev/null 2>&1; }
dockerd_running() { local pid; pid=$(cat /var/run/docker.pid 2>/dev/null) && [[ -d /proc/$pid ]]; }

if ! engine_up; then
  [[ -z ${DOCKER_HOST:-} ]] || die "the Docker engine at DOCKER_HOST=$DOCKER_HOST does not answer"
  if dockerd_running; then
    [[ $EUID -eq 0 ]] || die "dockerd runs but 'docker info' fails for $(id -un): no access to /var/run/docker.sock? (join the docker group)"
    log "dockerd is running but does not answer yet; waiting"
  else
    mapfile -t pkgs < <(missing_pkgs busybox-static)
    command -v dockerd >/dev/null && command -v docker >/dev/null || pkgs+=(docker.io)
    if ((${#pkgs[@]})); then
      need_root "no Docker engine is running; missing packages: ${pkgs[*]} (apt-get install -y ${pkgs[*]})"
      apt_install "${pkgs[@]}"
    fi
    need_root "no Docker engine is running (start dockerd as root)"
    # Every deployment runs on its own bridge network; Docker's default address pools hold only
    # ~30 of them, which a test run (or a busy host) can use up. An engine started here gets one
    # pool of 256 /24 networks instead (ENGINE_ADDRESS_POOL=none keeps Docker's defaults; a
    # daemon.json that sets its own pools wins, since dockerd refuses the flag beside it).
    pool_args=()
    pool=${ENGINE_ADDRESS_POOL:-10.213.0.0/16}
    if [[ $pool != none ]] && ! grep -qs default-address-pools /etc/docker/daemon.json; then
      pool_args=(--default-address-pool "base=$pool,size=24")
    fi
    log "starting dockerd ${pool_args[*]} (log: $LOGDIR/dockerd.log)"
    daemon "$LOGDIR/dockerd.log" dockerd "${pool_args[@]}"
  fi
  wait_for 30 engine_up || die "the Docker engine did not answer within 30 s; see $LOGDIR/dockerd.log"
  log "Docker engine is up"
fi
ensure_pkgs busybox-static
