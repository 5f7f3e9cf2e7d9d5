# The orchestrator's image: web (the default command), worker, beat, watcher and the one-off
# migrate all run from it (compose.yaml). BASE_IMAGE is any Debian bookworm image: the local
# base that scripts/images.sh builds with debootstrap (no registry needed; `make images`), or,
# where a registry is reachable, the official python:3.11-slim (the default):
#   docker build --build-arg BASE_IMAGE=orchestrator-base:bookworm -t orchestrator .
# The app runs as the unprivileged user "app" (uid 10001); var/ is the only place it writes.
ARG BASE_IMAGE=python:3.11-slim

# --- system: Python and the system packages ---------------------------------------------------------
FROM ${BASE_IMAGE} AS system
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    LANG=C.UTF-8 \
    VIRTUAL_ENV=/opt/venv \
    PATH=/opt/venv/bin:$PATH

# busybox-static: `manage.py bootstrap` builds the demo image from /bin/busybox. haproxy: the
# registry checks every config it writes with `haproxy -c` before the load balancer loads it (the
# stack's haproxy service runs it). The plain Debian base has no Python: Debian's python3 (3.11 in
# bookworm) then, the official image's otherwise. /var/lib/orchestrator-haproxy is HAPROXY_DIR in
# compose.yaml (the haproxy-run volume, shared with the haproxy service): the app's user owns it.
RUN set -eux; \
    pkgs="busybox-static ca-certificates haproxy"; \
    command -v python3 >/dev/null || pkgs="$pkgs python3 python3-venv"; \
    apt-get update; \
    apt-get install -y --no-install-recommends $pkgs; \
    rm -rf /var/lib/apt/lists/*; \
    useradd --uid 10001 --no-create-home --home-dir /app --shell /usr/sbin/nologin app; \
    install -d -o app -g app -m 0700 /var/lib/orchestrator-haproxy

# --- venv: the hashed lock requirements.txt (rebuilt only when it changes) ------------------------
# From the wheelhouse/ that scripts/images.sh fills with the host's pip (its index, proxy and CA
# settings), offline; without a wheelhouse (a plain `docker build`), from the package index.
FROM system AS venv
COPY requirements.txt wheelhous[e] /tmp/build/
RUN set -eux; \
    python3 -m venv "$VIRTUAL_ENV"; \
    if ls /tmp/build/*.whl >/dev/null 2>&1; then \
        pip install --require-hashes --no-index --find-links /tmp/build -r /tmp/build/requirements.txt; \
    else \
        pip install --require-hashes -r /tmp/build/requirements.txt; \
    fi; \
    rm -rf /tmp/build

# --- the app ---------------------------------------------------------------------------------------
FROM system
COPY --from=venv /opt/venv /opt/venv
WORKDIR /app
COPY . .
# A throwaway SECRET_KEY so that no key is generated into (and shipped with) the image.
RUN SECRET_KEY=collectstatic-only python manage.py collectstatic --noinput -v0 \
    && chown -R app:app var

USER app
EXPOSE 8000
CMD ["gunicorn", "orchestrator_site.wsgi", "-b", "0.0.0.0:8000", "--workers", "2", "--threads", "4", \
     "--timeout", "120", "--access-logfile", "-"]
