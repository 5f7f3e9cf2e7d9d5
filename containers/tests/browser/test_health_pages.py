"""The health pages in Chromium: the fleet table fits a 1280 px window and keeps its sort across refreshes;
a container's charts draw with the vendored uPlot, switch range, and turn counters into rates, leaving
out the drop when a restart reset them."""

from __future__ import annotations

import re
import time
import uuid
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from containers.models import Container, Deployment, Image
from containers.tests.browser.pages import look_at
from health.models import ContainerHealth, Snapshot

pytestmark = pytest.mark.browser

MIB = 1024 * 1024
LONG_NAME = "a-deployment-name-as-long-as-the-form-allows-which-is-63-chars-x"[:63]


def sampled_container(deployment: Deployment, name: str, cpu: float, rx: list[int]) -> Container:
    """A container with snapshots 5 s apart ending now (``rx`` its cumulative counter) and current figures."""
    row = Container.objects.create(deployment=deployment, docker_id=uuid.uuid4().hex * 2, name=name, status="running")
    now = timezone.now()
    Snapshot.objects.bulk_create(
        Snapshot(
            container=row,
            deployment=deployment,
            taken_at=now - timedelta(seconds=5 * (len(rx) - 1 - index)),
            running=True,
            health_class="healthy",
            cpu_pct=cpu,
            memory_bytes=6 * MIB,
            memory_pct=9.4,
            net_rx_bytes=received,
            net_tx_bytes=received // 2,
        )
        for index, received in enumerate(rx)
    )
    health_class = "critical" if cpu > 90 else "healthy"
    ContainerHealth.objects.create(
        container=row,
        health_class=health_class,
        class_since=now,
        sampled_at=now,
        cpu_pct=cpu,
        memory_bytes=6 * MIB,
        memory_limit_bytes=64 * MIB,
        memory_pct=9.4,
        pids=3,
        net_rx_bytes=rx[-1],
        net_tx_bytes=rx[-1] // 2,
    )
    return row


@pytest.fixture
def fleet(transactional_db: Any) -> list[Container]:
    image = Image.objects.create(reference="orchestrator-test/health-pages:1")
    deployment = Deployment.objects.create(name=LONG_NAME, image=image, replicas=2, memory_limit_bytes=64 * MIB)
    # The counter falls from 3000 to 500 at the fourth point: the container restarted there.
    return [
        sampled_container(deployment, f"{LONG_NAME[:50]}-calm", 3.0, [0, 1000, 3000, 500, 1500]),
        sampled_container(deployment, f"{LONG_NAME[:50]}-busy", 97.0, [0, 10, 20, 30, 40]),
    ]


def test_the_fleet_fits_the_window_and_keeps_its_sort_across_a_refresh(console: Page, fleet: list[Container]) -> None:
    console.get_by_role("link", name="Fleet").click()
    expect(console.get_by_role("heading", level=1)).to_have_text("Fleet health")
    look_at(console, "fleet")
    table = console.locator("#fleet .overflow-auto")
    assert table.evaluate("el => el.scrollWidth - el.clientWidth") <= 0, "the fleet table scrolls sideways"

    console.get_by_role("link", name="CPU %", exact=True).click()
    expect(console.locator("th[aria-sort]")).to_have_text("CPU % ▼")
    expect(console.locator("th[aria-sort]")).to_have_attribute("aria-sort", "descending")
    expect(console.locator("table.fleet tbody th").first).to_have_text(fleet[1].name)
    # The section replaces itself every 5 s; the new copy still asks for the same order.
    with console.expect_response(lambda r: "/console/health/rows/?sort=-cpu" in r.url, timeout=8000):
        pass
    expect(console.locator("th[aria-sort]")).to_have_text("CPU % ▼")

    # The arrow is decoration (aria-hidden): the link's name stays "CPU %", and aria-sort says the order.
    console.get_by_role("link", name="CPU %", exact=True).click()
    expect(console.locator("th[aria-sort]")).to_have_attribute("aria-sort", "ascending")
    expect(console.locator("table.fleet tbody th").first).to_have_text(fleet[0].name)


def test_the_charts_draw_rates_without_the_restart_s_drop_and_switch_range(
    console: Page, fleet: list[Container]
) -> None:
    calm = fleet[0]
    console.goto("/console/health/")
    console.get_by_role("link", name=f"Charts of {calm.name}").click()
    expect(console.locator(".uplot canvas")).to_have_count(3)
    # 1000 bytes over the last 5 s (the counter restarted at 500, then reached 1500): 200 B/s, never negative.
    expect(console.locator('[data-latest="network"]')).to_have_text("rx 200 B/s, tx 100 B/s")
    expect(console.locator('[data-latest="cpu"]')).to_have_text("3.0 %, highest in range 3.0 %")
    look_at(console, "container-charts")

    console.get_by_role("button", name="7 d").click()
    expect(console.get_by_role("button", name="7 d")).to_have_attribute("aria-pressed", "true")
    expect(console.get_by_role("button", name="15 min")).to_have_attribute("aria-pressed", "false")
    expect(console.get_by_role("status")).to_contain_text("No hourly averages for the last 7 days yet")


@pytest.fixture
def interrupted(transactional_db: Any) -> Container:
    """A container sampled for half a minute 50 minutes ago, then not until the last 20 s."""
    image = Image.objects.create(reference="orchestrator-test/health-gaps:1")
    deployment = Deployment.objects.create(name="gappy", image=image, replicas=1, memory_limit_bytes=64 * MIB)
    row = Container.objects.create(
        deployment=deployment, docker_id=uuid.uuid4().hex * 2, name="gappy-1", status="running"
    )
    now = timezone.now()
    moments = [now - timedelta(minutes=50, seconds=-5 * n) for n in range(6)] + [
        now - timedelta(seconds=5 * n) for n in range(4, -1, -1)
    ]
    Snapshot.objects.bulk_create(
        Snapshot(
            container=row,
            deployment=deployment,
            taken_at=moment,
            running=True,
            health_class="healthy",
            cpu_pct=5.0,
            memory_bytes=6 * MIB,
            memory_pct=9.4,
            net_rx_bytes=100 * n,
            net_tx_bytes=50 * n,
        )
        for n, moment in enumerate(moments)
    )
    return row


def axis_span(page: Page) -> tuple[float, float]:
    charts = page.locator("#health-charts")
    expect(charts).to_have_attribute("data-x-max", re.compile(r"^\d"))
    return float(charts.get_attribute("data-x-min") or 0), float(charts.get_attribute("data-x-max") or 0)


def test_the_time_axis_spans_the_whole_range_with_a_gap_where_nothing_was_sampled(
    console: Page, interrupted: Container
) -> None:
    console.goto(f"/console/health/containers/{interrupted.pk}/")
    expect(console.locator(".uplot canvas")).to_have_count(3)
    for button, seconds in (("1 h", 3600), ("24 h", 86400), ("7 d", 7 * 86400), ("15 min", 900)):
        console.get_by_role("button", name=button).click()
        expect(console.get_by_role("button", name=button)).to_have_attribute("aria-pressed", "true")
        # The answer for the range comes after the click: wait for an axis of that length.
        try:
            console.wait_for_function(
                f"() => {{ const d = document.getElementById('health-charts').dataset;"
                f" return Math.abs(d.xMax - d.xMin - {seconds}) <= 2; }}",
                timeout=5000,
            )
        except PlaywrightTimeout:
            low, high = axis_span(console)
            pytest.fail(f"{button}: the axis spans {high - low} s, not {seconds} s")
        low, high = axis_span(console)
        assert high == pytest.approx(time.time(), abs=30), f"{button}: the axis ends at {high}, not now"
        if button == "1 h":
            # Two runs of samples 50 minutes apart: the line breaks between them.
            expect(console.locator("#health-charts")).to_have_attribute("data-gaps", "1")


def test_the_charts_follow_their_box_through_resizes(console: Page, interrupted: Container) -> None:
    console.goto(f"/console/health/containers/{interrupted.pk}/")
    canvases = console.locator(".uplot canvas")
    expect(canvases).to_have_count(3)

    def widths() -> list[tuple[int, int]]:
        return console.eval_on_selector_all(
            "#health-charts .plot",
            "plots => plots.map(p => [p.clientWidth, p.querySelector('canvas').getBoundingClientRect().width])",
        )

    for width in (700, 390, 1280):
        console.set_viewport_size({"width": width, "height": 800})
        console.wait_for_function(
            """() => [...document.querySelectorAll('#health-charts .plot')].every(
                 p => Math.abs(p.clientWidth - p.querySelector('canvas').getBoundingClientRect().width) <= 1)"""
        )
        for box, canvas in widths():
            assert canvas > 150, f"at {width} px a chart is {canvas} px wide"
            assert abs(box - canvas) <= 1, f"at {width} px a chart is {canvas} px wide in a {box} px box"
