#!/usr/bin/env bash
# Run the orchestrator in its embedded default (SQLite + filesystem broker; no env vars needed):
# migrate, bootstrap, then the worker, beat and engine watcher in the background (logs in var/log/)
# and gunicorn on http://127.0.0.1:8000/ in the foreground. Ctrl-C stops them all.
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "$0")/lib.sh"
cd "$ROOT" || exit
BIN=$ROOT/.venv/bin

# One run at a time: exactly one beat may exist. Children inherit the lock, so stray ones keep it.
exec 9>"$VAR/run.lock"
flock -n 9 || die "the orchestrator is already running (var/run.lock is held); stop it first"

"$BIN/python" manage.py migrate --noinput
"$BIN/python" manage.py collectstatic --noinput -v0
"$BIN/python" manage.py bootstrap

declare -A names=()
start() { # start NAME CMD...: run CMD in the background, output to var/log/NAME.log
  local name=$1
  shift
  "$@" >>"$LOGDIR/$name.log" 2>&1 &
  names[$!]=$name
}
# shellcheck disable=SC2317 # called from the traps
running() { local p; for p; do kill -0 "$p" 2>/dev/null && return 0; done; return 1; }
# shellcheck disable=SC2317
stop_all() {
  trap - EXIT INT TERM
  local -a pids
  mapfile -t pids < <(jobs -pr)
  ((${#pids[@]})) || return 0
  log "stopping ${names[*]}"
  kill "${pids[@]}" 2>/dev/null || true
  for _ in {1..75}; do # up to 15 s for warm shutdowns (an idle celery worker needs ~7 s), then kill
    running "${pids[@]}" || break
    sleep 0.2
  done
  kill -9 "${pids[@]}" 2>/dev/null || true
  wait 2>/dev/null || true
}
trap stop_all EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

start worker "$BIN/celery" -A orchestrator_site worker -l info --concurrency 4
start beat "$BIN/celery" -A orchestrator_site beat -l info -s "$VAR/celerybeat-schedule"
start watcher "$BIN/python" manage.py watch_engine
log "logs: $LOGDIR/{worker,beat,watcher}.log; web requests below; console: http://127.0.0.1:8000/"
"$BIN/gunicorn" orchestrator_site.wsgi -b 127.0.0.1:8000 --workers 2 --threads 4 --timeout 120 --access-logfile - &
names[$!]=web

# Run until any of them exits (or Ctrl-C); the EXIT trap then stops the others.
rc=0
wait -n -p done_pid || rc=$?
log "${names[$done_pid]} exited (status $rc); stopping the others"
exit "$rc"
