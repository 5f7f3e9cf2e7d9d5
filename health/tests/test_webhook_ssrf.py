"""Alert webhooks cannot be turned against the host's own network (server-side request forgery): the
host is resolved and loopback, link-local (metadata), private, multicast and reserved addresses are
refused unless allow-listed; the checked address is the one connected to; no redirects, no proxy;
the answer's read is capped and the whole exchange has one deadline."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
from rest_framework.test import APIClient

from containers.models import record
from health import alerts
from health.models import AlertDelivery, AlertRule
from health.tests import webhook_servers as servers
from orchestrator_site import outbound
from orchestrator_site.addresses import forbidden_reason, parse_networks

pytestmark = pytest.mark.django_db(transaction=True)

FORBIDDEN = [
    "http://127.0.0.1:2375/containers/json",  # the engine's TCP socket
    "http://169.254.169.254/latest/meta-data/",  # cloud metadata
    "http://10.0.0.5/",
    "http://172.16.1.1/",
    "http://192.168.1.1:8080/",
    "http://100.100.100.200/",  # shared address space (a cloud's metadata)
    "http://0.0.0.0:8000/",
    "http://224.0.0.1/",
    "http://[::1]:6379/",
    "http://[::ffff:127.0.0.1]/",
    "http://[fd00:ec2::254]/",
    "http://[fe80::1]/",
    "http://localhost:5432/",
]


@pytest.fixture
def receiver() -> Iterator[servers.Server]:
    server = servers.Server(servers.ok)
    yield server
    server.close()


def died_rule(url: str) -> AlertRule:
    """A rule written straight to the database, as one created before this check existed would be."""
    return AlertRule.objects.create(name="d", event_kinds=["container.died"], webhook_url=url, cooldown_s=0)


def died() -> None:
    record("container.died", actor="reconciler", message="web-1 died")


@pytest.mark.parametrize("url", FORBIDDEN)
def test_a_webhook_to_an_internal_address_is_refused_when_the_rule_is_created(api_client: APIClient, url: str) -> None:
    response = api_client.post(
        "/api/alert-rules/", {"name": "x", "event_kinds": ["container.died"], "webhook_url": url}, format="json"
    )

    assert response.status_code == 400, response.json()
    assert "refused" in response.json()["fields"]["webhook_url"][0]
    assert not AlertRule.objects.exists()


def test_a_public_address_passes_the_policy() -> None:
    import ipaddress

    assert forbidden_reason(ipaddress.ip_address("93.184.216.34")) is None
    assert forbidden_reason(ipaddress.ip_address("2606:4700::1111")) is None


def test_a_delivery_to_a_name_resolving_to_loopback_is_refused_without_connecting(receiver: servers.Server) -> None:
    rule = died_rule(f"http://localhost:{receiver.port}/hook")
    died()

    alerts.run()

    delivery = AlertDelivery.objects.get(rule=rule)
    assert delivery.status == "failed" and "refused" in delivery.error and "loopback" in delivery.error
    assert receiver.requests == []


def test_an_operator_allow_list_lets_a_webhook_reach_that_network(settings: Any, receiver: servers.Server) -> None:
    settings.WEBHOOK_ALLOWED_NETWORKS = ["127.0.0.1/32"]
    rule = died_rule(f"http://localhost:{receiver.port}/hook")
    died()

    alerts.run()

    delivery = AlertDelivery.objects.get(rule=rule)
    assert (delivery.status, delivery.response_code) == ("sent", 200)
    assert [(method, path) for method, path, _ in receiver.requests] == [("POST", "/hook")]


def test_a_redirect_is_not_followed(settings: Any, receiver: servers.Server) -> None:
    settings.WEBHOOK_ALLOWED_NETWORKS = ["127.0.0.1/32"]
    redirector = servers.Server(servers.redirect_to(receiver.url))
    try:
        rule = died_rule(redirector.url)
        died()
        alerts.run()
    finally:
        redirector.close()

    delivery = AlertDelivery.objects.get(rule=rule)
    assert (delivery.status, delivery.response_code) == ("failed", 307)
    assert "redirects are not followed" in delivery.error
    assert receiver.requests == []


def test_proxy_variables_are_ignored(settings: Any, monkeypatch: pytest.MonkeyPatch, receiver: servers.Server) -> None:
    settings.WEBHOOK_ALLOWED_NETWORKS = ["127.0.0.1/32"]
    proxy = servers.Server(servers.ok)
    for name in ("http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"):
        monkeypatch.setenv(name, f"http://127.0.0.1:{proxy.port}")
    for name in ("no_proxy", "NO_PROXY"):
        monkeypatch.delenv(name, raising=False)
    try:
        rule = died_rule(receiver.url)
        died()
        alerts.run()
    finally:
        proxy.close()

    assert AlertDelivery.objects.get(rule=rule).status == "sent"
    assert proxy.requests == [] and len(receiver.requests) == 1


def test_the_answer_is_read_up_to_a_cap() -> None:
    big = servers.Server(servers.huge(20 * 1024 * 1024))
    try:
        answer = outbound.request(big.url, body=b"{}", deadline_s=10, allowed=parse_networks(["127.0.0.1"]))
    finally:
        big.close()

    assert answer.status == 200 and len(answer.body) == outbound.MAX_RESPONSE_BYTES


def test_a_drip_feeding_receiver_is_cut_off_at_the_deadline(settings: Any) -> None:
    settings.WEBHOOK_ALLOWED_NETWORKS = ["127.0.0.1/32"]
    settings.WEBHOOK_DEADLINE_S = 1.5
    stop = threading.Event()
    dripper = servers.Server(servers.drip(0.2, stop))
    rule = died_rule(dripper.url)
    died()
    started = time.monotonic()
    try:
        done = threading.Thread(target=alerts.run, daemon=True)
        done.start()
        done.join(timeout=15)
        elapsed = time.monotonic() - started
        assert not done.is_alive(), "a drip-feeding receiver held the alert run"
    finally:
        stop.set()
        dripper.close()

    delivery = AlertDelivery.objects.get(rule=rule)
    assert delivery.status == "failed" and "TimeoutError" in delivery.error
    assert elapsed < 6


def test_no_transaction_is_open_while_a_webhook_is_sent(settings: Any) -> None:
    """The scan commits its claim (cursor moved, delivery pending) before the network call."""
    from django.db import connection

    settings.WEBHOOK_ALLOWED_NETWORKS = ["127.0.0.1/32"]
    seen: list[bool] = []

    def respond(handler: Any) -> None:
        # The row was committed before the POST: another connection (this thread's) can read it.
        seen.append(AlertDelivery.objects.filter(status="pending").exists())
        connection.close()  # this server thread's own connection
        servers.ok(handler)

    checker = servers.Server(respond)
    try:
        died_rule(checker.url)
        died()
        alerts.run()
    finally:
        checker.close()

    assert seen == [True]
    assert AlertDelivery.objects.get().status == "sent"
