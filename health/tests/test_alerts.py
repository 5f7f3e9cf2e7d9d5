"""Alerts: rules matched against the event log, delivered to a real webhook receiver and Django's locmem mail."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from django.core import mail
from django.utils import timezone
from rest_framework.test import APIClient

from conftest import deploy
from containers.models import Deployment, Image, record
from health import alerts, tasks
from health.models import AlertDelivery, AlertRule

pytestmark = pytest.mark.django_db(transaction=True)


class Receiver:
    """A webhook receiver on 127.0.0.1 that records every POST's JSON body."""

    def __init__(self, status: int = 200) -> None:
        posts: list[dict[str, Any]] = []
        self.posts = posts

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
                length = int(self.headers.get("Content-Length", 0))
                posts.append(json.loads(self.rfile.read(length)))
                self.send_response(status)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(autouse=True)
def loopback_webhooks(settings: Any) -> None:
    """The receivers here listen on 127.0.0.1, which the address policy refuses unless allow-listed."""
    settings.WEBHOOK_ALLOWED_NETWORKS = ["127.0.0.0/8"]


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    server = Receiver()
    yield server
    server.close()


@pytest.fixture
def locmem_mail(settings: Any) -> None:
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"


def critical(deployment: Deployment) -> None:
    record(
        "health.class_changed",
        actor="sampler",
        deployment=deployment,
        container_docker_id="c" * 64,
        before={"class": "healthy"},
        after={"class": "critical"},
        message="web-1 is critical",
    )


# --- pure functions ---------------------------------------------------------------------------


def test_a_class_change_is_an_alert_only_to_warning_or_critical() -> None:
    assert alerts.alert_kind("health.class_changed", {"class": "critical"}) == "class.critical"
    assert alerts.alert_kind("health.class_changed", {"class": "warning"}) == "class.warning"
    assert alerts.alert_kind("health.class_changed", {"class": "healthy"}) is None
    assert alerts.alert_kind("container.died", None) == "container.died"
    assert alerts.alert_kind("deployment.scaled", {}) is None


def test_the_cooldown_holds_for_its_length_and_no_longer() -> None:
    now = timezone.now()
    assert alerts.cooled_down(None, now, 60)
    assert not alerts.cooled_down(now - timedelta(seconds=59), now, 60)
    assert alerts.cooled_down(now - timedelta(seconds=60), now, 60)


def test_only_http_and_https_webhooks_are_accepted() -> None:
    assert alerts.webhook_url_problem("https://hooks.example.com/x") is None
    assert alerts.webhook_url_problem("file:///etc/passwd") is not None
    assert alerts.webhook_url_problem("http://") is not None


# --- delivery ---------------------------------------------------------------------------------


def test_an_alert_is_delivered_once_per_change_and_again_after_the_cooldown(
    demo_image: Image, receiver: Receiver, locmem_mail: None
) -> None:
    deployment = deploy(demo_image, "alerted", converge=False)
    rule = AlertRule.objects.create(
        name="critical web",
        event_kinds=["class.critical"],
        webhook_url=receiver.url,
        emails=["ops@example.com"],
        cooldown_s=1,
    )

    critical(deployment)
    alerts.run()
    assert len(receiver.posts) == 1
    assert receiver.posts[0]["alert"] == "class.critical"
    assert receiver.posts[0]["event"]["deployment"] == "alerted"
    assert len(mail.outbox) == 1 and mail.outbox[0].to == ["ops@example.com"]
    assert alerts.run() == 0  # the cursor moved on: nothing is delivered twice

    critical(deployment)
    alerts.run()
    assert len(receiver.posts) == 1
    assert set(AlertDelivery.objects.filter(rule=rule).values_list("status", flat=True)) == {"sent", "suppressed"}

    time.sleep(1.05)
    critical(deployment)
    alerts.run()
    assert len(receiver.posts) == 2
    assert len(mail.outbox) == 2
    sent = AlertDelivery.objects.filter(rule=rule, status="sent")
    assert sorted(sent.values_list("channel", flat=True)) == ["email", "email", "webhook", "webhook"]
    assert set(sent.filter(channel="webhook").values_list("response_code", flat=True)) == {200}


def test_a_rule_for_one_deployment_ignores_the_others(demo_image: Image, receiver: Receiver) -> None:
    mine = deploy(demo_image, "mine", converge=False)
    other = deploy(demo_image, "other", converge=False)
    AlertRule.objects.create(name="mine", event_kinds=["class.critical"], deployment=mine, webhook_url=receiver.url)

    critical(other)
    critical(mine)
    alerts.run()

    assert [post["event"]["deployment"] for post in receiver.posts] == ["mine"]


def test_a_failing_webhook_is_recorded_as_failed(demo_image: Image) -> None:
    failing = Receiver(status=500)
    try:
        deployment = deploy(demo_image, "failing", converge=False)
        rule = AlertRule.objects.create(name="f", event_kinds=["container.died"], webhook_url=failing.url)
        record("container.died", actor="reconciler", deployment=deployment, message="died")
        alerts.run()
    finally:
        failing.close()
    delivery = AlertDelivery.objects.get(rule=rule)
    assert (delivery.status, delivery.response_code) == ("failed", 500)


def test_events_written_before_any_rule_are_not_replayed(demo_image: Image, receiver: Receiver) -> None:
    deployment = deploy(demo_image, "history", converge=False)
    critical(deployment)
    time.sleep(0.01)
    AlertRule.objects.create(name="late", event_kinds=["class.critical"], webhook_url=receiver.url, cooldown_s=0)

    alerts.run()
    assert receiver.posts == []

    critical(deployment)
    alerts.run()
    assert len(receiver.posts) == 1


@pytest.mark.parametrize("kind", ["container.died", "deployment.backoff", "probe.failed", "probe.restart"])
def test_deaths_crash_loops_and_probe_events_are_alerts(kind: str) -> None:
    assert alerts.alert_kind(kind, {}) == kind


def test_the_beat_tasks_run_when_called_directly(demo_image: Image) -> None:
    tasks.run_probes()
    tasks.deliver_alerts()
    tasks.autoscale()


# --- API --------------------------------------------------------------------------------------


def test_alert_rules_are_created_through_the_api(demo_image: Image, api_client: APIClient) -> None:
    deploy(demo_image, "api-alerts", converge=False)
    response = api_client.post(
        "/api/alert-rules/",
        {
            "name": "deaths",
            "event_kinds": ["container.died", "probe.restart"],
            "deployment": "api-alerts",
            "webhook_url": "https://hooks.example.com/x",
            "cooldown_s": 60,
        },
        format="json",
    )
    assert response.status_code == 201, response.json()
    listed = api_client.get("/api/alert-rules/?deployment=api-alerts").json()["results"]
    assert [rule["name"] for rule in listed] == ["deaths"]
    assert api_client.get("/api/alert-deliveries/").status_code == 200


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": "x", "event_kinds": ["nope"], "webhook_url": "https://a.example"}, "event_kinds"),
        ({"name": "x", "event_kinds": ["container.died"], "webhook_url": "ftp://a.example/x"}, "webhook_url"),
        ({"name": "x", "event_kinds": ["container.died"], "emails": ["not-an-address"]}, "emails"),
        ({"name": "x", "event_kinds": ["container.died"]}, "webhook_url"),
    ],
)
def test_a_bad_alert_rule_is_refused_naming_the_field(api_client: APIClient, body: dict[str, Any], field: str) -> None:
    response = api_client.post("/api/alert-rules/", body, format="json")
    assert response.status_code == 400
    assert field in response.json()["fields"]


def test_alert_deliveries_are_read_only(api_client: APIClient) -> None:
    assert api_client.post("/api/alert-deliveries/", {}, format="json").status_code == 405
