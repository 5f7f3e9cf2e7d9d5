#!/usr/bin/env bash
# Run the orchestrator in its embedded default (no env vars needed): SQLite, and a private Redis
# as the broker (unix socket var/redis/redis.sock, data in var/redis/). Migrate and bootstrap, then
# every process under supervisord (see `program` below): a process that exits is restarted at once,
# one that keeps dying within STARTSECS backs off (1 s, 2 s, ... 8 s, then the event listener retries
# it every minute); every exit and restart is an event in the log and shows in /health/detailed.
# "ready" is printed once /health/detailed answers 200 (every component ok). Ctrl-C stops them all.
#
# ORCHESTRATOR_VAR_DIR (default var/), ORCHESTRATOR_PORT (default 8000) and ORCHESTRATOR_WATCH_PORT (the watch server, default PORT+1) let tests and benches
# run a second stack beside this one; CELERY_BROKER_URL set means an external broker (no private Redis).
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "$0")/lib.sh"
cd "$ROOT" || exit
BIN=$ROOT/.venv/bin
VAR=$(mkdir -p "${ORCHESTRATOR_VAR_DIR:-$VAR}" && cd "${ORCHESTRATOR_VAR_DIR:-$VAR}" && pwd)
export ORCHESTRATOR_VAR_DIR=$VAR
LOGDIR=$VAR/log
PORT=${ORCHESTRATOR_PORT:-8000}
URL=http://127.0.0.1:$PORT/
mkdir -p "$LOGDIR" "$VAR/redis"
ensure_pkgs redis-server curl haproxy
# HAProxy is the supervisor's (program haproxy below): the load balancer tick only re-syncs it.
export HAPROXY_START=never
WATCH_PORT=${ORCHESTRATOR_WATCH_PORT:-$((PORT + 1))}
# var/ (database, logs, broker, keys) is readable by this user only: logs and files created below are 0600.
umask 077
chmod 700 "$VAR"

# One run per var dir: exactly one beat may exist. supervisord (exec'd below) keeps holding the lock.
exec 9>"$VAR/run.lock"
flock -n 9 || die "the orchestrator is already running ($VAR/run.lock is held); stop it first"

"$BIN/python" manage.py migrate --noinput
"$BIN/python" manage.py collectstatic --noinput -v0
"$BIN/python" manage.py bootstrap --url "$URL"
TOKEN=$("$BIN/python" manage.py create_token admin)

# --- the supervised processes -----------------------------------------------------------------
# program NAME COMMAND...: one supervised process, output in var/log/NAME.log. Adding a process
# to `make run` is one more line below, e.g.
#   program haproxy /usr/sbin/haproxy -W -db -f "$VAR/haproxy/haproxy.cfg"
STARTSECS=3 # a process that dies sooner than this after its start counts as a failed start (backoff)
# PRIORITY=N before it orders starts (low first) and stops (low last); the default is 100.
program() {
  local name=$1 arg cmd="" priority=${PRIORITY:-100}
  shift
  for arg; do cmd+="${cmd:+ }$(printf '%q' "$arg")"; done
  cat <<INI

[program:$name]
command=${cmd//%/%%}
directory=$ROOT
priority=$priority
autorestart=true
startsecs=$STARTSECS
startretries=8
stopsignal=TERM
stopwaitsecs=20
stopasgroup=true
killasgroup=true
redirect_stderr=true
stdout_logfile=$LOGDIR/$name.log
stdout_logfile_maxbytes=20MB
stdout_logfile_backups=2
INI
}

{
  cat <<INI
[supervisord]
nodaemon=true
user=$(id -un)
logfile=$LOGDIR/supervisord.log
logfile_maxbytes=20MB
logfile_backups=2
pidfile=$VAR/supervisord.pid
childlogdir=$LOGDIR
environment=PYTHONUNBUFFERED="1"

; Only this user may talk to it (the socket's mode), so it needs no password of its own.
[unix_http_server]
file=$VAR/supervisor.sock
chmod=0700

[rpcinterface:supervisor]
supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface

[supervisorctl]
serverurl=unix://$VAR/supervisor.sock

; Records every exit, backoff and restart of the programs in the event log, and retries a program
; that gave up (FATAL) every minute, so nothing stays down for good.
[eventlistener:process-events]
command=$BIN/python manage.py process_events
directory=$ROOT
events=PROCESS_STATE,SUPERVISOR_STATE_CHANGE
buffer_size=1000
autorestart=true
priority=1
stdout_logfile=NONE
stderr_logfile=$LOGDIR/process-events.log
INI
  if [[ -z ${CELERY_BROKER_URL:-} ]]; then
    # The private broker: no TCP port at all; the append-only file keeps queued tasks across its restarts.
    PRIORITY=10 program redis redis-server --port 0 --unixsocket "$VAR/redis/redis.sock" --unixsocketperm 700 \
      --dir "$VAR/redis" --save "" --appendonly yes --appendfsync everysec --logfile ""
  fi
  program web "$BIN/gunicorn" orchestrator_site.wsgi -b "127.0.0.1:$PORT" --workers 2 --threads 4 --timeout 120 \
    --access-logfile -
  program worker "$BIN/celery" -A orchestrator_site worker -l info --concurrency 4 --without-gossip \
    --without-mingle -n "orchestrator@%h" -Q celery
  # Probes and alert deliveries wait on other servers: their own queue and worker, so reconcile never starves.
  program peer-worker "$BIN/celery" -A orchestrator_site worker -l info --concurrency 4 --without-gossip \
    --without-mingle -n "peers@%h" -Q peers
  program beat "$BIN/celery" -A orchestrator_site beat -l info -s "$VAR/celerybeat-schedule"
  program watcher "$BIN/python" manage.py watch_engine
  # The load balancer: renders its config from the registry, then runs HAProxy (master-worker) in the foreground.
  program haproxy "$BIN/python" manage.py run_haproxy
  # The watch server: blocking discovery queries (/api/services/?index=N&wait=30s) wait here as coroutines.
  program watch "$BIN/uvicorn" registry.asgi:application --host 127.0.0.1 --port "$WATCH_PORT" --no-access-log
} >"$VAR/supervisord.conf"

# --- ready -------------------------------------------------------------------------------------
# In the background: say "ready" once every component answers ok (a process still starting is not).
# shellcheck disable=SC2317 # run in the background below
announce_ready() {
  local deadline=$((SECONDS + 180)) code=""
  while ((SECONDS < deadline)); do
    code=$(curl -s -o "$VAR/health-detailed.json" -w '%{http_code}' -m 5 \
      -H "Authorization: Token $TOKEN" "${URL}health/detailed" 2>/dev/null || true)
    if [[ $code == 200 ]]; then
      log "ready: every component is ok; console $URL (logs: $LOGDIR/); Ctrl-C stops everything"
      return 0
    fi
    sleep 0.5
  done
  log "not ready after 180 s; /health/detailed answered ${code:-nothing}: $(cat "$VAR/health-detailed.json" 2>/dev/null)"
}
announce_ready &

log "starting $(grep -c '^\[program:' "$VAR/supervisord.conf") processes under supervisord (logs: $LOGDIR/)"
# exec: Ctrl-C (SIGINT) and SIGTERM reach supervisord, which stops every program and then exits.
exec "$BIN/supervisord" -c "$VAR/supervisord.conf"
