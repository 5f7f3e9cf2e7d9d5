# The orchestrator's image: web (the default command), worker, beat and watcher all run from it.
# See compose.yaml. The app runs as the unprivileged user "app"; var/ (SQLite, broker, locks,
# uploads, collected static files) is the only place it writes.
ARG PYTHON_IMAGE=python:3.11-slim
FROM ${PYTHON_IMAGE}

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

# busybox-static: `manage.py bootstrap` builds the demo image from /bin/busybox.
RUN apt-get update \
    && apt-get install -y --no-install-recommends busybox-static \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --uid 10001 --no-create-home --home-dir /app --shell /usr/sbin/nologin app

WORKDIR /app
COPY requirements.txt .
RUN pip install --require-hashes -r requirements.txt

COPY . .
# A throwaway SECRET_KEY so that no key is generated into (and shipped with) the image.
RUN SECRET_KEY=collectstatic-only python manage.py collectstatic --noinput -v0 \
    && chown -R app:app var

USER app
EXPOSE 8000
CMD ["gunicorn", "orchestrator_site.wsgi", "-b", "0.0.0.0:8000", "--workers", "2", "--threads", "4", \
     "--timeout", "120", "--access-logfile", "-"]
