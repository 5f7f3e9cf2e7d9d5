#!/usr/bin/env bash
# Everything `make test` needs, installed if missing and started if down (idempotent):
# the Docker engine, PostgreSQL (role+db orchestrator/orchestrator) on 127.0.0.1:5432, Redis on
# 127.0.0.1:6379, a registry on 127.0.0.1:5000, and the haproxy, chromium, docker-compose and
# debootstrap packages (every package a test calls is installed here: CI starts from a fresh
# machine; debootstrap builds the compose stack's base image, see scripts/images.sh).
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "$0")/lib.sh"

PG_VERSION=15 PG_CLUSTER=main

ensure_pkgs postgresql redis-server docker-registry haproxy chromium docker-compose debootstrap
"$ROOT/scripts/ensure-engine.sh"

# --- PostgreSQL ---------------------------------------------------------------------------
pg_ok() { # the orchestrator role can log in over TCP, to its database, and may create databases
  [[ $(PGPASSWORD=orchestrator PGCONNECT_TIMEOUT=3 psql -h 127.0.0.1 -p 5432 -U orchestrator \
    -d orchestrator -tAXqc 'select rolcreatedb from pg_roles where rolname = current_user' 2>/dev/null) == t ]]
}
pg_up() { pg_isready -q -h 127.0.0.1 -p 5432; }
if ! pg_ok; then
  need_root "PostgreSQL is not set up (start cluster $PG_VERSION/$PG_CLUSTER, create role and database orchestrator)"
  if ! pg_up; then
    pg_lsclusters -h | grep -q "^$PG_VERSION $PG_CLUSTER " || pg_createcluster "$PG_VERSION" "$PG_CLUSTER"
    pg_ctlcluster "$PG_VERSION" "$PG_CLUSTER" status >/dev/null &&
      die "cluster $PG_VERSION/$PG_CLUSTER runs but not on 127.0.0.1:5432 (see /etc/postgresql/$PG_VERSION/$PG_CLUSTER/postgresql.conf)"
    log "starting PostgreSQL $PG_VERSION/$PG_CLUSTER"
    pg_ctlcluster "$PG_VERSION" "$PG_CLUSTER" start
    wait_for 30 pg_up || die "PostgreSQL did not start; see /var/log/postgresql/"
  fi
  log "creating role and database orchestrator"
  (cd / && runuser -u postgres -- psql -q -X -v ON_ERROR_STOP=1 -p 5432) <<'SQL'
SELECT 'CREATE ROLE orchestrator' WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'orchestrator') \gexec
ALTER ROLE orchestrator LOGIN CREATEDB PASSWORD 'orchestrator';
SELECT 'CREATE DATABASE orchestrator OWNER orchestrator'
  WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = 'orchestrator') \gexec
SQL
  pg_ok || die "cannot log in as orchestrator@127.0.0.1:5432/orchestrator (check pg_hba.conf)"
fi

# --- Redis --------------------------------------------------------------------------------
redis_ok() { [[ $(redis-cli -h 127.0.0.1 -p 6379 ping 2>/dev/null) == PONG ]]; }
if ! redis_ok; then
  port_open 127.0.0.1 6379 && die "something that is not Redis listens on 127.0.0.1:6379"
  log "starting Redis on 127.0.0.1:6379 (log: $LOGDIR/redis.log)"
  mkdir -p "$VAR/redis"
  redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save '' --appendonly no \
    --dir "$VAR/redis" --logfile "$LOGDIR/redis.log"
  wait_for 10 redis_ok || die "Redis did not start; see $LOGDIR/redis.log"
fi

# --- registry (a plain-HTTP registry on loopback: the engine trusts 127.0.0.0/8 as insecure) ---
registry_ok() { [[ $(http_status 127.0.0.1 5000 /v2/) == 200 ]]; }
if ! registry_ok; then
  port_open 127.0.0.1 5000 &&
    die "127.0.0.1:5000 is taken by something that is not an open registry (Debian's docker-registry service? stop it)"
  log "starting docker-registry on 127.0.0.1:5000 (log: $LOGDIR/registry.log)"
  mkdir -p "$VAR/registry/data"
  cat >"$VAR/registry/config.yml" <<YAML
version: 0.1
log:
  level: info
storage:
  filesystem:
    rootdirectory: $VAR/registry/data
  delete:
    enabled: true
http:
  addr: 127.0.0.1:5000
YAML
  daemon "$LOGDIR/registry.log" docker-registry serve "$VAR/registry/config.yml"
  wait_for 10 registry_ok || die "the registry did not start; see $LOGDIR/registry.log"
fi
