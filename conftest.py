"""Shared fixtures. Tests run against the real Docker engine, PostgreSQL and Redis (``make test``).

Every container a test run creates carries ``orchestrator.instance=<this run's id>``; the
session removes exactly those at the end and never touches anything else.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

ROOT = Path(__file__).resolve().parent
TEST_INSTANCE = os.environ.get("ORCHESTRATOR_TEST_INSTANCE") or f"test-{uuid.uuid4().hex[:8]}"
# Images the tests build or tag themselves start with this, so cleanup can find them.
TEST_IMAGE_PREFIX = "orchestrator-test/"


def pytest_configure(config: pytest.Config) -> None:
    # Hashing the fixtures' passwords properly costs ~0.2 s a user; tests don't need it.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(scope="session", autouse=True)
def _test_instance() -> Iterator[str]:
    """Give this run its own instance label, and remove its containers at the end."""
    settings.ORCHESTRATOR_INSTANCE = TEST_INSTANCE
    # No HAProxy unless a test asks for its own (registry/tests/conftest.py: the lb fixture); worker
    # subprocesses inherit this environment.
    settings.LB_ENABLED = False
    os.environ["LB_ENABLED"] = "0"
    yield TEST_INSTANCE
    from containers import engine, instance_cleanup

    try:
        instance_cleanup.remove_all({engine.LABEL_INSTANCE: TEST_INSTANCE})
    except engine.EngineError:
        pass


@pytest.fixture(scope="session")
def engine_ready() -> None:
    """The real engine must answer: a missing engine fails the run, it never skips silently."""
    from containers import engine

    try:
        engine.ping()
    except engine.EngineUnavailable as exc:
        pytest.fail(f"these tests need a running Docker engine (make test starts one): {exc}")


@pytest.fixture(autouse=True)
def _clean_engine_after_each_test(request: pytest.FixtureRequest) -> Iterator[None]:
    """After a test that used the engine, remove this run's containers and deployment networks.

    The database rolls back after each test but the engine does not; networks especially must not
    pile up, since the engine's address pools hold only a few dozen bridge networks for everyone.
    """
    yield
    if "engine_ready" not in request.fixturenames:
        return
    from containers import engine, instance_cleanup

    try:
        instance_cleanup.remove_all()  # an endpoint that lingers a moment: the session's clean-up retries
    except engine.EngineUnavailable:
        pass


@pytest.fixture
def demo_image(engine_ready: None, db: None) -> Any:
    """The demo image, built on the engine if missing, with its Image row."""
    from containers.demo_image import ensure_demo_image

    return ensure_demo_image(actor="tests")


@pytest.fixture
def remove_test_containers(engine_ready: None) -> Iterator[None]:
    """Remove this run's containers after the test: the database rolls back, the engine does not."""
    yield
    from containers import instance_cleanup

    # Each deployment had its own network; networks are a scarce pool on the engine.
    instance_cleanup.remove_all()


SMALL_CPU = Decimal("0.05")
SMALL_MEMORY = 16 * 1024 * 1024


def deploy(image: Any, name: str, replicas: int = 1, *, converge: bool = True, **extra: Any) -> Any:
    """A small deployment made through the action function, converged at once unless asked not to."""
    from containers import reconcile
    from containers.deployments import create_deployment

    values: dict[str, Any] = {"cpu_limit": SMALL_CPU, "memory_limit_bytes": SMALL_MEMORY, **extra}
    deployment = create_deployment(actor="tests", name=name, image=image, replicas=replicas, **values)
    if converge:
        reconcile.converge(deployment.pk)
    return deployment


def on_engine(deployment: Any) -> list[Any]:
    """The deployment's containers as the engine has them, running or not."""
    from containers import engine

    return engine.list_containers(engine.deployment_labels(deployment.pk))


@pytest.fixture(autouse=True)
def _unused_networks_go(request: pytest.FixtureRequest) -> Iterator[None]:
    """After a test that used the engine, this run's networks with nothing attached go (also for tests
    without ``remove_test_containers``): Docker's default address pools hold only ~30 bridges."""
    yield
    if "engine_ready" not in request.fixturenames:
        return
    from containers import engine

    try:
        for name in engine.list_networks(engine.instance_labels()):
            try:
                engine.remove_network(name)
            except engine.EngineUnavailable:
                raise
            except engine.EngineError:
                pass  # containers still attached (a test's processes may outlive it): the session's end takes it
    except engine.EngineUnavailable:
        pass


@pytest.fixture(autouse=True)
def _no_registry_watch_left() -> Iterator[None]:
    """A test that made a blocking discovery query started this process's watch thread: end it with
    the test, so it never polls a database the next test may not use, or one being dropped at the end."""
    yield
    from registry import watch

    watch.stop()


@pytest.fixture(autouse=True)
def _fresh_cache() -> Iterator[None]:
    """Failed-token counts live in the cache: one test's deliberate failures must not throttle the next."""
    from django.core.cache import cache

    cache.clear()
    yield


def make_member(username: str, organization: Any, role: str = "admin", **extra: Any) -> Any:
    """A user who belongs to ``organization`` with ``role``."""
    from django.contrib.auth import get_user_model

    from tenancy.models import Membership

    user = get_user_model().objects.create_user(username, f"{username}@example.com", "correct-horse-battery", **extra)
    Membership.objects.create(user=user, organization=organization, role=role)
    return user


@pytest.fixture
def organization(db: None) -> Any:
    """The default organization (rows made without naming one land here)."""
    from tenancy.models import default_organization

    return default_organization()


@pytest.fixture
def other_organization(db: None) -> Any:
    from tenancy.models import Organization

    return Organization.objects.create(name="Other customer", slug="other")


@pytest.fixture
def user(organization: Any) -> Any:
    """alice, an admin of the default organization: she may do everything there."""
    return make_member("alice", organization, "admin")


@pytest.fixture
def api_client(user: Any) -> APIClient:
    """An API client authenticated with a DRF token, as machine clients are."""
    token, _ = Token.objects.get_or_create(user=user)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    return client


@pytest.fixture
def anon_client() -> APIClient:
    return APIClient()


def wait_for(
    predicate: Callable[[], Any], *, timeout: float = 20.0, interval: float = 0.1, what: str | Callable[[], str] = ""
) -> Any:
    """Poll until ``predicate()`` is truthy; fail with ``what`` (or what it returns) after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout}s waiting for {(what() if callable(what) else what) or predicate}")
        time.sleep(interval)


def docker_cli(*args: str) -> str:
    """Run the docker CLI, as an operator would from outside the orchestrator."""
    result = subprocess.run(["docker", *args], capture_output=True, text=True, timeout=60)
    if result.returncode != 0:
        raise AssertionError(f"docker {' '.join(args)} failed: {result.stderr}")
    return result.stdout.strip()


def test_database_env() -> dict[str, str]:
    """Environment for a subprocess (worker, watcher) that must see the test database."""
    db = settings.DATABASES["default"]
    env = dict(os.environ)
    if db["ENGINE"].endswith("postgresql"):
        env["DATABASE_URL"] = (
            f"postgres://{db['USER']}:{db['PASSWORD']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
        )
    else:
        env["DATABASE_URL"] = f"sqlite:///{db['NAME']}"
    env["ORCHESTRATOR_INSTANCE"] = TEST_INSTANCE
    env["PYTHONUNBUFFERED"] = "1"
    return env


class Process:
    """One of the orchestrator's own processes (worker, watcher), run for real in a subprocess."""

    def __init__(self, name: str, argv: list[str], log_dir: Path) -> None:
        self.name = name
        self.argv = argv
        self.log_path = log_dir / f"{name}.log"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        log = self.log_path.open("ab")
        self.proc = subprocess.Popen(self.argv, cwd=ROOT, env=test_database_env(), stdout=log, stderr=log)

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None

    def restart(self) -> None:
        self.stop()
        self.start()

    def log_tail(self, lines: int = 40) -> str:
        if not self.log_path.exists():
            return ""
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])


@pytest.fixture
def orchestrator_processes(transactional_db: None, engine_ready: None, tmp_path: Path) -> Iterator[dict[str, Process]]:
    """Real Celery workers (the default queue and the peers queue) and the engine watcher, on this run's
    test database and broker."""
    python = sys.executable

    def worker(queue: str, concurrency: int) -> list[str]:
        return [
            python,
            "-m",
            "celery",
            "-A",
            "orchestrator_site",
            "worker",
            "-l",
            "info",
            "--concurrency",
            str(concurrency),
            "-Q",
            queue,
            "-n",
            f"test-{queue}-{uuid.uuid4().hex[:6]}@%h",
            "--without-gossip",
            "--without-mingle",
        ]

    # As in production: reconcile and sampling on the default queue, probes and alerts on their own.
    procs = {
        "worker": Process("worker", worker(settings.CELERY_TASK_DEFAULT_QUEUE, 4), tmp_path),
        "peer-worker": Process("peer-worker", worker(settings.PEER_QUEUE, 2), tmp_path),
        "watcher": Process("watcher", [python, "manage.py", "watch_engine"], tmp_path),
    }
    for proc in procs.values():
        proc.start()
    yield procs
    for proc in procs.values():
        proc.stop()


# --- a real web server for tests -------------------------------------------------------------------
NGINX_IMAGE = "orchestrator-nginx:bookworm"


def build_nginx_image() -> str:
    """Build (once per machine; seconds when cached) and return Debian's nginx on the local base.

    ``scripts/images.sh nginx``: listens on 8080 as an unprivileged user; ``GET /`` answers the
    container's hostname (which replica served), ``GET /health`` answers ``ok``. For rollout and
    load tests that would be less honest against busybox httpd. The first build on a machine
    debootstraps the Debian base (about a minute); ``make test`` builds it before pytest runs.
    """
    result = subprocess.run(
        [str(ROOT / "scripts" / "images.sh"), "nginx"], cwd=ROOT, capture_output=True, text=True, timeout=1800
    )
    if result.returncode != 0:
        pytest.fail(f"scripts/images.sh nginx failed:\n{result.stderr[-4000:]}")
    return NGINX_IMAGE


@pytest.fixture(scope="session")
def nginx_reference(engine_ready: None) -> str:
    return build_nginx_image()


@pytest.fixture
def nginx_image(nginx_reference: str, db: None) -> Any:
    """The nginx image's row (source: build), ready for a deployment, like ``demo_image``."""
    from containers import engine
    from containers.models import Image

    info = engine.inspect_image(nginx_reference)
    image, _ = Image.objects.update_or_create(
        reference=nginx_reference,
        defaults={
            "source": Image.Source.BUILD,
            "docker_id": info.id,
            "size_bytes": info.size_bytes,
            "image_created_at": info.created_at,
        },
    )
    return image
