"""Settings for the orchestrator, all read from the environment.

With no environment at all this runs the embedded default: SQLite (WAL) and a private Redis
broker on a unix socket under var/ that ``make run`` starts itself. ``DATABASE_URL``,
``CELERY_BROKER_URL`` and ``DOCKER_HOST`` switch to PostgreSQL, another Redis and another engine.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from orchestrator_site import addresses as _addresses
from orchestrator_site import varfiles
from orchestrator_site.env import envbool, envfloat, envint, envlist, envparsed, envstr
from orchestrator_site.schedules import gated
from orchestrator_site.units import parse_cpu, parse_memory

# var/ holds the SQLite database (env values, tokens, sessions), the broker's messages, SECRET_KEY and
# the env encryption key: only the orchestrator's user may read it. Everything this process creates
# (the database and its WAL, broker files, uploads, locks) is 0600, directories 0700.
os.umask(0o077)
BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = varfiles.private_dir(Path(envstr("ORCHESTRATOR_VAR_DIR", str(BASE_DIR / "var"))))


def _secret_key() -> str:
    """An explicit SECRET_KEY wins; otherwise one is generated once and kept in var/ (0600)."""
    explicit = envstr("SECRET_KEY", "")
    if explicit:
        return explicit
    return varfiles.create_once(VAR_DIR / "secret_key", lambda: secrets.token_urlsafe(50))


SECRET_KEY = _secret_key()
# Fernet keys for env values at rest (orchestrator_site/encryption.py), newest first; when empty a key
# is created in var/env-encryption.key on first use.
ENV_ENCRYPTION_KEYS = [k.strip() for k in envstr("ENV_ENCRYPTION_KEYS", "").replace("\n", ",").split(",") if k.strip()]


def _disk_limit(raw: str) -> int | None:
    """``CONTAINER_DISK_LIMIT`` like ``2g`` (k, m, g: binary units) in bytes; empty means none."""
    text = raw.strip().lower()
    if not text:
        return None
    units = {"k": 1024, "m": 1024**2, "g": 1024**3}
    number, unit = (text[:-1], text[-1]) if text[-1] in units else (text, "")
    if not number.isdigit() or int(number) == 0:
        raise ImproperlyConfigured(f"CONTAINER_DISK_LIMIT must be a size such as 512m or 2g, got {raw!r}")
    return int(number) * units.get(unit, 1)


DEBUG = envbool("DEBUG", False)
ALLOWED_HOSTS = envlist("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "testserver"])
CSRF_TRUSTED_ORIGINS = envlist("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "knox",
    "axes",
    "django_filters",
    "django_htmx",
    "corsheaders",
    "csp",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "orchestrator_site.processes",
    "tenancy",
    "containers",
    "health",
    "registry",
    "billing",
]

MIDDLEWARE = [
    # First: every request gets an id (X-Request-ID), and an unhandled exception a JSON 500 logged with it.
    "orchestrator_site.errors.RequestIdMiddleware",
    "django.middleware.security.SecurityMiddleware",
    # Before anything that may answer: a CORS preflight is answered here, and every answer to an
    # allowed origin gets its headers.
    "corsheaders.middleware.CorsMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "csp.middleware.CSPMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "containers.middleware.EngineUnavailableMiddleware",
    # Last, as django-axes asks: it turns a locked-out login into its lockout answer.
    "axes.middleware.AxesMiddleware",
]

# --- transport security -----------------------------------------------------------------
# TLS=true when users reach the console over HTTPS (directly or through a TLS-terminating proxy):
# HTTP is redirected to HTTPS (but GET /health, for plain-HTTP health checks), cookies are sent
# only over HTTPS, and browsers are told to use HTTPS only (HSTS). `manage.py check --deploy` is
# clean with it. Behind a proxy that terminates TLS, TLS_PROXY_HEADER names the header it sets to
# "https" (e.g. X-Forwarded-Proto); only set it when that proxy always sets or strips the header.
TLS = envbool("TLS", False)
SECURE_SSL_REDIRECT = envbool("SECURE_SSL_REDIRECT", TLS)
SECURE_REDIRECT_EXEMPT = [r"^health$"]
SESSION_COOKIE_SECURE = envbool("SESSION_COOKIE_SECURE", TLS)
CSRF_COOKIE_SECURE = envbool("CSRF_COOKIE_SECURE", TLS)
SECURE_HSTS_SECONDS = envint("SECURE_HSTS_SECONDS", 365 * 24 * 3600 if TLS else 0, minimum=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = envbool("SECURE_HSTS_INCLUDE_SUBDOMAINS", TLS)
SECURE_HSTS_PRELOAD = envbool("SECURE_HSTS_PRELOAD", TLS)
_TLS_PROXY_HEADER = envstr("TLS_PROXY_HEADER", "")
if _TLS_PROXY_HEADER:
    SECURE_PROXY_SSL_HEADER = ("HTTP_" + _TLS_PROXY_HEADER.upper().replace("-", "_"), "https")
SESSION_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"

# Content-Security-Policy (django-csp) on every answer: scripts, styles, fonts and connections only
# from this origin (the console serves htmx, Pico, uPlot and Swagger UI itself), no inline script
# or style, no eval, no plugins, never framed. The console works under it (the browser tests
# record every CSP violation and fail on one). CSP_REPORT_ONLY=true sends it as report-only.
_csp = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    },
}
if envbool("CSP_REPORT_ONLY", False):  # (no CSP_* setting names: django-csp 4 takes them for its old format)
    CONTENT_SECURITY_POLICY_REPORT_ONLY = _csp
else:
    CONTENT_SECURITY_POLICY = _csp

# CORS (django-cors-headers) for the UI team's web app: the origins allowed to call the API from a
# browser, e.g. CORS_ALLOWED_ORIGINS=https://ui.example.com; none by default. Only those origins
# get Access-Control-Allow-Origin, and credentials (cookies, Authorization) are allowed only for
# them. A browser app that writes with the session cookie also needs its origin in CSRF_TRUSTED_ORIGINS.
CORS_ALLOWED_ORIGINS = envlist("CORS_ALLOWED_ORIGINS", [])
CORS_ALLOW_CREDENTIALS = True

ROOT_URLCONF = "orchestrator_site.urls"
WSGI_APPLICATION = "orchestrator_site.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "tenancy.console.context",
                "containers.views.engine.engine_context",
            ],
        },
    },
]

# --- database ---------------------------------------------------------------
DATABASE_URL = envstr("DATABASE_URL", f"sqlite:///{VAR_DIR / 'orchestrator.sqlite3'}")
DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=envint("DB_CONN_MAX_AGE", 60))}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets the web, worker, beat and watcher processes read while one writes;
    # IMMEDIATE makes writers queue on the busy timeout instead of failing mid-transaction.
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"]["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
    }
    # A file, not memory: tests run the worker and watcher as subprocesses that must see it.
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / "test.sqlite3")}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
# django-axes first: it refuses a login from a locked-out username + address before the password is checked.
AUTHENTICATION_BACKENDS = ["axes.backends.AxesStandaloneBackend", "django.contrib.auth.backends.ModelBackend"]
AXES_FAILURE_LIMIT = envint("LOGIN_FAILURE_LIMIT", 5, minimum=1)
AXES_COOLOFF_TIME = envfloat("LOGIN_LOCKOUT_H", 0.25, minimum=0.001)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
# Failed API-token attempts per address (tenancy/throttle.py): this many within the window, then 429.
TOKEN_FAILURE_LIMIT = envint("TOKEN_FAILURE_LIMIT", 20, minimum=1)
TOKEN_FAILURE_WINDOW_S = envfloat("TOKEN_FAILURE_WINDOW_S", 60.0, minimum=1.0)
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "dashboard"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = False
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True

# --- uploads ------------------------------------------------------------------
# Image tars are streamed to disk, never held in memory.
FILE_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024
FILE_UPLOAD_TEMP_DIR = str(VAR_DIR / "uploads")
Path(FILE_UPLOAD_TEMP_DIR).mkdir(parents=True, exist_ok=True)
# Registries images may be pulled from (host[:port], e.g. registry.example:5000, docker.io); empty: any.
IMAGE_PULL_REGISTRIES = envlist("IMAGE_PULL_REGISTRIES", [])
IMAGE_UPLOAD_MAX_BYTES = envint("IMAGE_UPLOAD_MAX_BYTES", 2 * 1024**3, minimum=1024)
DATA_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024

# --- API ------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "tenancy.auth.OrganizationTokenAuthentication",
        "tenancy.auth.LegacyTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    # Signed in, and (tenancy) a role that may write for writes; reads are narrowed by tenancy.scope.
    "DEFAULT_PERMISSION_CLASSES": [
        "rest_framework.permissions.IsAuthenticated",
        "tenancy.permissions.RolePermission",
    ],
    "DEFAULT_FILTER_BACKENDS": [
        "django_filters.rest_framework.DjangoFilterBackend",
        "rest_framework.filters.OrderingFilter",
    ],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_SCHEMA_CLASS": "orchestrator_site.schema.GroupedAutoSchema",
    "EXCEPTION_HANDLER": "containers.api.errors.exception_handler",
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
}
# Organization tokens (tenancy.ApiToken, stored by django-rest-knox as a SHA-512 digest). The prefix
# tells them from the older DRF tokens; no default lifetime: each token has its own optional expiry.
KNOX_TOKEN_MODEL = "tenancy.ApiToken"
REST_KNOX = {"TOKEN_PREFIX": "orch_", "TOKEN_TTL": None, "AUTH_HEADER_PREFIX": "Token"}
# knox's own migrations create its default token table even when the model is swapped out; we
# never use that table (and it would block flushing auth_user in tests), so knox gets no migrations.
MIGRATION_MODULES = {"knox": None}
SPECTACULAR_SETTINGS = {
    "TITLE": "Orchestrator API",
    "DESCRIPTION": "Desired state, containers, events and service endpoints of a single-host orchestrator.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # The schema and its docs page need a login like every other path (the default is AllowAny).
    "SERVE_PERMISSIONS": ["rest_framework.permissions.IsAuthenticated"],
    # Swagger UI's headings, in this order (operations are tagged by orchestrator_site.schema).
    "TAGS": [
        {"name": "images", "description": "Upload, pull, list and delete images on the engine."},
        {"name": "deployments", "description": "Desired state: create, change, scale, stop, delete."},
        {"name": "containers", "description": "The containers the orchestrator runs: restart, logs, figures."},
        {"name": "events", "description": "Every change and every refused request."},
        {"name": "health", "description": "Alert rules and deliveries, autoscalers, probes."},
        {"name": "registry", "description": "Service endpoints."},
        {"name": "organizations", "description": "Organizations, their members, quotas and API tokens."},
        {"name": "billing", "description": "Usage metered per hour, invoices and their lines; each also as CSV."},
        {"name": "seed", "description": "The prototype's paths (a contract other teams call), unchanged."},
    ],
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # Several models have a "status"/"state" choice field; name ours so the schema's enums don't collide.
    "ENUM_NAME_OVERRIDES": {
        "ContainerStatusEnum": "containers.models.Container.Status",
        "DeploymentStateEnum": "containers.models.Deployment.State",
        "EndpointStatusEnum": "registry.models.ServiceEndpoint.Status",
        "AlertDeliveryStatusEnum": "health.models.alerts.AlertDelivery.Status",
        "InvoiceStatusEnum": "billing.models.Invoice.Status",
        # http/tcp: an endpoint's protocol and a probe's type are one choice set in the schema.
        "ProtocolEnum": "registry.models.ServiceEndpoint.Protocol",
    },
}

# The seed's list paths (GET /containers, GET /registry/endpoints) answer one page of this many rows
# unless ?limit= asks for another count (never more than the maximum); ``total`` counts them all.
SEED_LIST_DEFAULT_LIMIT = envint("SEED_LIST_DEFAULT_LIMIT", 500, minimum=1)
SEED_LIST_MAX_LIMIT = envint("SEED_LIST_MAX_LIMIT", max(1000, SEED_LIST_DEFAULT_LIMIT), minimum=1)

# Log tails (console and API) keep at most this many bytes of a container's last lines.
LOG_TAIL_MAX_BYTES = envint("LOG_TAIL_MAX_BYTES", 256 * 1024, minimum=1024)

# Alert webhooks (health/alerts.py via orchestrator_site/outbound.py): networks a webhook may reach
# although they are loopback, private or link-local (CIDRs; none by default), the whole exchange's
# deadline, and how many deliveries run at once.
WEBHOOK_ALLOWED_NETWORKS = envlist("WEBHOOK_ALLOWED_NETWORKS", [])
try:
    _addresses.parse_networks(WEBHOOK_ALLOWED_NETWORKS)
except ValueError as _exc:
    raise ImproperlyConfigured(f"WEBHOOK_ALLOWED_NETWORKS: {_exc}") from None
WEBHOOK_DEADLINE_S = envfloat("WEBHOOK_DEADLINE_S", 10.0, minimum=0.1)
ALERT_SEND_THREADS = envint("ALERT_SEND_THREADS", 8, minimum=1)
# SMTP calls of alert emails give up after this (Django's default is to wait forever).
EMAIL_TIMEOUT = envint("EMAIL_TIMEOUT", 10, minimum=1)

# --- Celery -----------------------------------------------------------------------
# The embedded default is a private Redis that `make run` starts under supervision, listening on a
# unix socket under var/ (no TCP port); production and the tests name theirs. Redis, unlike kombu's
# filesystem transport, is safe with several producers and consumers (kombu #1551 killed the worker).
REDIS_SOCKET = VAR_DIR / "redis" / "redis.sock"
CELERY_BROKER_URL = envstr("CELERY_BROKER_URL", f"redis+socket://{REDIS_SOCKET}")
CELERY_BROKER_TRANSPORT_OPTIONS: dict[str, object] = {}
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_ACKS_LATE = True
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
# Tasks that wait on other people's servers (probes of containers' ports, alert webhooks and mail) run
# on their own queue with their own worker, so slow peers never take the slots reconcile and sampling
# need. Every worker command (scripts/run.sh, compose.yaml, the tests' fixture) names its queues.
CELERY_TASK_DEFAULT_QUEUE = "celery"
PEER_QUEUE = "peers"
CELERY_TASK_ROUTES = {
    "health.tasks.run_probes": {"queue": PEER_QUEUE},
    "health.tasks.deliver_alerts": {"queue": PEER_QUEUE},
}
# The safety net for a task without limits of its own (each task sets its own).
CELERY_TASK_SOFT_TIME_LIMIT = 300
CELERY_TASK_TIME_LIMIT = 360
RECONCILE_INTERVAL_S = envfloat("RECONCILE_INTERVAL_S", 5.0, minimum=0.5)
# Rolling updates (containers/rollouts.py): a converge keeps taking a rollout's steps, one every
# ROLLOUT_STEP_S, for up to ROLLOUT_HOLD_S, then hands the rest to a task; a rollout whose new
# containers crash this many times in a row fails; the last REVISION_HISTORY templates are kept.
ROLLOUT_STEP_S = envfloat("ROLLOUT_STEP_S", 0.25, minimum=0.05)
ROLLOUT_HOLD_S = envfloat("ROLLOUT_HOLD_S", 30.0, minimum=0.0)
# Outside a rollout, a converge waits this long for its new containers to be ready (then the tick asks).
READY_WAIT_S = envfloat("READY_WAIT_S", 3.0, minimum=0.0)
ROLLOUT_MAX_CRASHES = envint("ROLLOUT_MAX_CRASHES", 3, minimum=1)
REVISION_HISTORY = envint("REVISION_HISTORY", 10, minimum=2)
# A container with a port but no readiness probe is ready once its published port answers on 127.0.0.1.
# Off where the worker cannot reach the host's loopback (the compose stack): then running means ready.
READINESS_PORT_CHECK = envbool("READINESS_PORT_CHECK", True)
HEARTBEAT_INTERVAL_S = envfloat("HEARTBEAT_INTERVAL_S", 10.0, minimum=1.0)
# Health sampling (health/sampler.py): one round reads every managed container's counters.
SAMPLE_INTERVAL_S = envfloat("SAMPLE_INTERVAL_S", 5.0, minimum=0.5)
HEALTH_ROLLUP_INTERVAL_S = envfloat("HEALTH_ROLLUP_INTERVAL_S", 60.0, minimum=1.0)
HEALTH_PRUNE_INTERVAL_S = envfloat("HEALTH_PRUNE_INTERVAL_S", 600.0, minimum=1.0)
# Probes (health/probes.py): the tick finds the probes whose own period is due; checks run in this many threads.
PROBE_TICK_S = envfloat("PROBE_TICK_S", 1.0, minimum=0.5)
PROBE_WORKERS = int(envfloat("PROBE_WORKERS", 16, minimum=1))
ALERT_TICK_S = envfloat("ALERT_TICK_S", 3.0, minimum=0.5)
AUTOSCALE_TICK_S = envfloat("AUTOSCALE_TICK_S", 15.0, minimum=1.0)
# The load balancer's tick (registry/loadbalancer.py): start HAProxy if it is dead and make its
# servers agree with the registry. Endpoint changes are also pushed at once, after their commit.
LB_SYNC_INTERVAL_S = envfloat("LB_SYNC_INTERVAL_S", 5.0, minimum=0.5)
# Billing (billing/hourly.py, billing/invoices.py): hourly usage is (re)computed every this many seconds
# (the current hour so far, the last closed ones again); closed months are finalized this long after
# they end (so the last hours are metered), checked every BILLING_FINALIZE_INTERVAL_S.
BILLING_METER_INTERVAL_S = envfloat("BILLING_METER_INTERVAL_S", 300.0, minimum=5.0)
BILLING_FINALIZE_INTERVAL_S = envfloat("BILLING_FINALIZE_INTERVAL_S", 3600.0, minimum=5.0)
BILLING_FINALIZE_GRACE_H = envfloat("BILLING_FINALIZE_GRACE_H", 3.0, minimum=0.0)
# Two readings of one run further apart than this are recorded as a gap (still counted: the counter kept counting).
BILLING_GAP_S = envint("BILLING_GAP_S", 600, minimum=1)
# The widest range one usage or invoice export may cover.
BILLING_EXPORT_MAX_DAYS = envint("BILLING_EXPORT_MAX_DAYS", 366, minimum=1)
# A tick that waited longer than its interval is dropped: the next one does the same work.
CELERY_BEAT_SCHEDULE = {
    "reconcile": {
        "task": "containers.tasks.reconcile_all",
        "schedule": RECONCILE_INTERVAL_S,
        "options": {"expires": RECONCILE_INTERVAL_S},
    },
    "heartbeat": {
        "task": "health.tasks.beat_tick",
        "schedule": HEARTBEAT_INTERVAL_S,
        "options": {"expires": HEARTBEAT_INTERVAL_S},
    },
    "sample-health": {
        "task": "health.tasks.sample",
        "schedule": SAMPLE_INTERVAL_S,
        "options": {"expires": SAMPLE_INTERVAL_S},
    },
    "health-rollup": {
        "task": "health.tasks.rollup",
        "schedule": HEALTH_ROLLUP_INTERVAL_S,
        "options": {"expires": HEALTH_ROLLUP_INTERVAL_S},
    },
    "health-prune": {
        "task": "health.tasks.prune",
        "schedule": HEALTH_PRUNE_INTERVAL_S,
        "options": {"expires": HEALTH_PRUNE_INTERVAL_S},
    },
    # Gated: while no probe (autoscaler) is enabled, beat sends nothing (orchestrator_site/schedules.py).
    "health-probes": {
        "task": "health.tasks.run_probes",
        "schedule": gated(PROBE_TICK_S, "health.probes.any_enabled"),
        "options": {"expires": PROBE_TICK_S},
    },
    "health-alerts": {
        "task": "health.tasks.deliver_alerts",
        "schedule": ALERT_TICK_S,
        "options": {"expires": ALERT_TICK_S},
    },
    "loadbalancer-sync": {
        "task": "registry.tasks.loadbalancer_tick",
        "schedule": LB_SYNC_INTERVAL_S,
        "options": {"expires": LB_SYNC_INTERVAL_S},
    },
    "health-autoscale": {
        "task": "health.tasks.autoscale",
        "schedule": gated(AUTOSCALE_TICK_S, "health.autoscale.any_enabled"),
        "options": {"expires": AUTOSCALE_TICK_S},
    },
    "billing-meter": {
        "task": "billing.tasks.meter",
        "schedule": BILLING_METER_INTERVAL_S,
        "options": {"expires": BILLING_METER_INTERVAL_S},
    },
    "billing-finalize": {
        "task": "billing.tasks.finalize_closed_months",
        "schedule": BILLING_FINALIZE_INTERVAL_S,
        "options": {"expires": BILLING_FINALIZE_INTERVAL_S},
    },
}
# A heartbeat older than this means its process is down (/health/detailed).
HEARTBEAT_STALE_S = envfloat("HEARTBEAT_STALE_S", 3 * HEARTBEAT_INTERVAL_S, minimum=1.0)
# supervisord sets this in the processes it runs (make run): /health/detailed asks it about them.
SUPERVISOR_SERVER_URL = envstr("SUPERVISOR_SERVER_URL", "")
# How long /health/detailed waits for the broker or the engine before calling it down.
HEALTH_CHECK_TIMEOUT_S = envfloat("HEALTH_CHECK_TIMEOUT_S", 3.0, minimum=0.1)
# How long /test/integration waits for a worker to run its ping task.
INTEGRATION_WORKER_TIMEOUT_S = envfloat("INTEGRATION_WORKER_TIMEOUT_S", 5.0, minimum=0.1)

# --- health sampling ------------------------------------------------------------------
# The seed's classes: warning from this CPU or memory % of the container's limit, critical above the other.
HEALTH_WARNING_PCT = envfloat("HEALTH_WARNING_PCT", 75.0, minimum=0.1)
HEALTH_CRITICAL_PCT = envfloat("HEALTH_CRITICAL_PCT", 90.0, minimum=0.1)
if HEALTH_WARNING_PCT > HEALTH_CRITICAL_PCT:
    raise ImproperlyConfigured("HEALTH_WARNING_PCT must not be above HEALTH_CRITICAL_PCT")
# auto: the cgroup files for a local engine (the stats API for a container whose files can't be read),
# the stats API for a remote one; cgroup / api: always that way.
HEALTH_SAMPLER_SOURCE = envstr("HEALTH_SAMPLER_SOURCE", "auto")
if HEALTH_SAMPLER_SOURCE not in ("auto", "cgroup", "api"):
    raise ImproperlyConfigured(f"HEALTH_SAMPLER_SOURCE must be auto, cgroup or api, got {HEALTH_SAMPLER_SOURCE!r}")
HEALTH_CGROUP_ROOT = envstr("HEALTH_CGROUP_ROOT", "/sys/fs/cgroup")
HEALTH_PROC_ROOT = envstr("HEALTH_PROC_ROOT", "/proc")
# Stats API calls in flight at once (the fallback); each waits up to 1 s for the engine's collection tick.
HEALTH_STATS_API_THREADS = envint("HEALTH_STATS_API_THREADS", 32, minimum=1)
# Retention: raw snapshots, then 1-minute and 1-hour rollups.
HEALTH_RAW_RETENTION_H = envfloat("HEALTH_RAW_RETENTION_H", 24.0, minimum=0.1)
HEALTH_ROLLUP_RETENTION_D = envfloat("HEALTH_ROLLUP_RETENTION_D", 30.0, minimum=0.1)
# /health/detailed calls the sampler down when its last round is older than this.
HEALTH_SAMPLER_STALE_S = envfloat("HEALTH_SAMPLER_STALE_S", 3 * SAMPLE_INTERVAL_S, minimum=1.0)

# --- orchestrator -------------------------------------------------------------------
# Containers carry this in their labels; a second orchestrator (or a test run) with
# another instance name never sees or touches them.
ORCHESTRATOR_INSTANCE = envstr("ORCHESTRATOR_INSTANCE", "default")
DOCKER_HOST = envstr("DOCKER_HOST", "")
DOCKER_TIMEOUT_S = envint("DOCKER_TIMEOUT_S", 30, minimum=1)
MAX_REPLICAS = envint("MAX_REPLICAS", 100, minimum=1)
# Parsed once, here: a Decimal of cores and a number of bytes.
DEFAULT_CPU_LIMIT = envparsed("DEFAULT_CPU_LIMIT", "0.5", parse_cpu)
DEFAULT_MEMORY_LIMIT = envparsed("DEFAULT_MEMORY_LIMIT", "128m", parse_memory)
# Admission: how much of the host's CPU and memory the managed containers may reserve.
ADMISSION_CPU_FACTOR = envfloat("ADMISSION_CPU_FACTOR", 1.0, minimum=0.01)
ADMISSION_MEMORY_FACTOR = envfloat("ADMISSION_MEMORY_FACTOR", 1.0, minimum=0.01)
# Crash-loop backoff: a container that dies within CRASH_WINDOW_S of starting counts as a crash.
CRASH_WINDOW_S = envfloat("CRASH_WINDOW_S", 10.0, minimum=0.0)
BACKOFF_BASE_S = envfloat("BACKOFF_BASE_S", 1.0, minimum=0.0)
BACKOFF_CAP_S = envfloat("BACKOFF_CAP_S", 300.0, minimum=0.0)
RECONCILE_PARALLELISM = envint("RECONCILE_PARALLELISM", 8, minimum=1)
# The watcher converges a death itself, in up to this many threads (no broker hop before the replacement
# starts); a death that finds them all busy goes to the workers through the broker. 0: always the broker.
WATCHER_CONVERGE_THREADS = envint("WATCHER_CONVERGE_THREADS", 4, minimum=0)
DEMO_IMAGE = envstr("DEMO_IMAGE", "orchestrator-demo:latest")
# Each deployment's containers on their own bridge network (created on demand, removed with it).
DEPLOYMENT_NETWORKS = envbool("DEPLOYMENT_NETWORKS", True)
# A cap on each container's writable layer, applied where the storage driver enforces one (see README).
CONTAINER_DISK_LIMIT_BYTES = _disk_limit(envstr("CONTAINER_DISK_LIMIT", ""))
# --- load balancer and discovery (registry/) ------------------------------------------
# HAProxy, Debian's package: one frontend per service on 127.0.0.1, changed through its Runtime API.
LB_ENABLED = envbool("LB_ENABLED", True)
HAPROXY_BIN = envstr("HAPROXY_BIN", "haproxy")
# Its config, admin and master sockets, pid and lock files (short: a socket path has at most 107 bytes).
HAPROXY_DIR = Path(envstr("HAPROXY_DIR", str(VAR_DIR / "haproxy")))
# auto: the tick starts HAProxy (master-worker, daemon) when it is not running; never: someone else
# runs it on the same directory (a process supervisor's `manage.py run_haproxy`, a compose service).
HAPROXY_START = envstr("HAPROXY_START", "auto")
if HAPROXY_START not in ("auto", "never"):
    raise ImproperlyConfigured(f"HAPROXY_START must be auto or never, got {HAPROXY_START!r}")
# Service frontends get a port from this range, once; ports of retired services are never reused.
LB_PORT_MIN = envint("LB_PORT_MIN", 20000, minimum=1024)
LB_PORT_MAX = envint("LB_PORT_MAX", 20999, minimum=1024)
if LB_PORT_MIN > LB_PORT_MAX:
    raise ImproperlyConfigured("LB_PORT_MIN must not be above LB_PORT_MAX")
# Server slots per backend at least; a backend that outgrows its slots is given more by a reload.
LB_MIN_SLOTS = envint("LB_MIN_SLOTS", 8, minimum=1)
# A container about to be removed is drained in HAProxy first: its stop waits until HAProxy counts no
# session on it, or this long.
LB_DRAIN_TIMEOUT_S = envfloat("LB_DRAIN_TIMEOUT_S", 10.0, minimum=0.0)
# Blocking discovery queries: the longest ?wait= accepted (longer ones are refused with a 400).
DISCOVERY_MAX_WAIT_S = envfloat("DISCOVERY_MAX_WAIT_S", 600.0, minimum=1.0)
# How often a process's watch hub polls the registry index, whatever else tells it of a change.
DISCOVERY_POLL_S = envfloat("DISCOVERY_POLL_S", 0.1, minimum=0.01)
# How a change wakes the watch hubs at once (registry/notifications.py): auto (PostgreSQL's NOTIFY on
# PostgreSQL, else Redis pub/sub on a Redis broker, as the embedded default's), postgres, redis, or poll.
DISCOVERY_NOTIFY = envstr("DISCOVERY_NOTIFY", "auto").strip().lower()
if DISCOVERY_NOTIFY not in ("auto", "postgres", "redis", "poll"):
    raise ImproperlyConfigured(f"DISCOVERY_NOTIFY must be auto, postgres, redis or poll, got {DISCOVERY_NOTIFY!r}")
LOCK_DIR = VAR_DIR / "locks"
LOCK_DIR.mkdir(parents=True, exist_ok=True)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": envstr("LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}, "axes": {"level": "WARNING"}},
}
