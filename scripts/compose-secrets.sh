#!/usr/bin/env bash
# Create the compose stack's secrets once (existing files are kept):
#   scripts/compose-secrets.sh [DIR]      DIR: $SECRETS_DIR or ./secrets
# postgres_password and secret_key are random; database_url is the URL the app connects with.
# The directory is root's only (0700); the files inside are world-readable (0644) because compose
# bind-mounts them into containers whose users (postgres, app) are not root, and Debian's
# docker-compose cannot set their owner. Only root on the host and the stack's services see them.
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "$0")/lib.sh"

dir=${1:-${SECRETS_DIR:-$ROOT/secrets}}
mkdir -p "$dir"
chmod 700 "$dir"

write() { # write NAME VALUE: unless the file exists
  local path=$dir/$1
  [[ -s $path ]] && return 0
  (umask 022 && printf '%s\n' "$2" >"$path.tmp" && mv "$path.tmp" "$path")
  log "wrote $path"
}
random() { python3 -c 'import secrets; print(secrets.token_urlsafe(32))'; }

write postgres_password "$(random)"
write secret_key "$(random)$(random)"
write database_url "postgres://orchestrator:$(cat "$dir/postgres_password")@postgres:5432/orchestrator"
