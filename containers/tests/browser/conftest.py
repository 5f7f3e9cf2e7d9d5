"""Browser fixtures: Debian's Chromium driven by Playwright against pytest-django's live server.

One browser for all the browser tests; a fresh 1280×800 page per test, logged in through the real
login form. A script error or anything the Content-Security-Policy refuses, on any page a test
visits, fails that test. Tests that change containers also take ``orchestrator_processes`` (the root conftest):
a real Celery worker and the engine watcher on the test database, so what the console asks for
converges exactly as in production. A missing Chromium fails the run; it never skips.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, ConsoleMessage, Page, expect, sync_playwright

from conftest import SMALL_CPU, SMALL_MEMORY
from containers.models import Container, Deployment, Event, Image, record
from containers.tests.browser.pages import HEIGHT, LONG_NAME, WIDTH, log_in, save_screenshot

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--headless",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
PASSWORD = "correct-horse-battery"  # the root conftest's ``user`` (alice)
# The pages poll every 2 s and the worker converges in a few seconds: waits are generous, but
# only a failing test ever waits that long.
expect.set_options(timeout=15_000)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    # Keep each phase's report on the test, so the page fixture knows whether to save a screenshot.
    report = yield
    setattr(item, f"report_{report.when}", report)
    return report


@pytest.fixture(scope="package")
def browser() -> Iterator[Browser]:
    """One headless Chromium for the package's tests.

    Package scope, not session: Playwright's sync API keeps an asyncio loop running in this thread
    while it is started, and Django refuses ORM calls from a thread with a running loop unless
    DJANGO_ALLOW_ASYNC_UNSAFE is set. Both end with the browser tests, so no other test runs with them.
    """
    if not CHROMIUM.exists():
        pytest.fail(
            f"the browser tests need Debian's Chromium at {CHROMIUM}: install the Debian package "
            "`chromium` (apt-get install chromium; make test installs it)"
        )
    # Safe here: the loop is Playwright's, and no Django code runs inside it.
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    playwright = sync_playwright().start()
    try:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()
    finally:
        playwright.stop()
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture
def page(browser: Browser, live_server: Any, request: pytest.FixtureRequest) -> Iterator[Page]:
    """A fresh page at 1280×800 on the live server. A script error on any page fails the test;
    a failed test leaves a screenshot of where it stopped in test-artifacts/screenshots/."""
    context = browser.new_context(viewport={"width": WIDTH, "height": HEIGHT}, base_url=live_server.url)
    context.set_default_timeout(15_000)
    page = context.new_page()
    script_errors: list[str] = []
    page.on("pageerror", lambda error: script_errors.append(f"{page.url}: {error}"))
    # Every page runs under the Content-Security-Policy: Chromium reports each thing it refused.
    csp_violations: list[str] = []
    page.on("console", lambda msg: csp_violations.append(f"{page.url}: {msg.text}") if is_csp_violation(msg) else None)
    page.csp_violations = csp_violations  # type: ignore[attr-defined]
    yield page
    report = getattr(request.node, "report_call", None)
    if report is not None and report.failed:
        save_screenshot(page, f"failed-{request.node.name}")
    context.close()
    assert not script_errors, f"script errors in the page: {script_errors}"
    assert not csp_violations, f"the Content-Security-Policy refused: {csp_violations}"


def is_csp_violation(message: ConsoleMessage) -> bool:
    return message.type == "error" and "Content Security Policy" in message.text


@pytest.fixture
def console(page: Page, user: Any) -> Page:
    """The page, logged in as alice through the login form."""
    log_in(page, "alice", PASSWORD)
    expect(page.get_by_role("heading", level=1)).to_have_text("Dashboard")
    return page


LONG_REFERENCE = "registry.example.internal:5000/a-team-with-a-long-name/an-application-called-this:2026.11.24-build"
LONG_ERROR = "the engine refused: " + "a very long explanation that never ends " * 8


@pytest.fixture
def crowded(engine_ready: None, transactional_db: Any) -> Deployment:
    """A deployment with the longest values the console allows: every page's worst case for layout."""
    image = Image.objects.create(reference=LONG_REFERENCE, size_bytes=123_456_789)
    deployment = Deployment.objects.create(
        name=LONG_NAME,
        image=image,
        replicas=12,
        cpu_limit=SMALL_CPU,
        memory_limit_bytes=SMALL_MEMORY,
        container_port=8080,
        command=["sh", "-c", "exec some-server --with-a-flag --and-another=" + "x" * 120],
        env={"A_RATHER_LONG_VARIABLE_NAME": "1", "ANOTHER_ONE": "2"},
        state=Deployment.State.BACKOFF,
        last_error=LONG_ERROR,
    )
    Container.objects.bulk_create(
        Container(
            deployment=deployment,
            organization_id=deployment.organization_id,
            docker_id=uuid.uuid4().hex * 2,
            name=f"{LONG_NAME}-{n:06x}",
            status=Container.Status.EXITED if n % 3 else Container.Status.RUNNING,
            exit_code=137 if n % 3 else None,
            host_port=40000 + n,
        )
        for n in range(12)
    )
    for _ in range(30):
        record(
            "deployment.updated",
            actor="a-user-with-a-long-name@example.com",
            message=f"{LONG_NAME} changed: " + "every field there is " * 10,
            deployment=deployment,
            before={"command": deployment.command, "env_keys": sorted(deployment.env)},
            after={"command": deployment.command + ["--more"], "env_keys": sorted(deployment.env)},
        )
    Event.objects.create(kind="container.died", actor="reconciler", container_docker_id="f" * 64, message="x" * 400)
    # A row on each rules page, with long values too.
    from health.models import AlertRule, Autoscaler, Probe
    from registry.models import ServiceEndpoint

    AlertRule.objects.create(
        name="a rule with a rather long name for its column",
        event_kinds=["container.died", "deployment.backoff", "probe.failed"],
        deployment=deployment,
        webhook_url="http://127.0.0.1:9/a/long/webhook/path/for/the/alerts/of/this/deployment",
        emails=["someone-with-a-long-address@example.com"],
    )
    Autoscaler.objects.create(deployment=deployment, min_replicas=2, max_replicas=12)
    Probe.objects.create(deployment=deployment, kind="liveness", path="/a/health/check/path/that/is/long")
    ServiceEndpoint.objects.create(service=LONG_NAME, host="a-host-name.example.internal", port=40000)
    return deployment
