"""The deployment page's rollout: progress, revision history, pause/resume and rollback from the console."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from conftest import deploy
from containers import reconcile
from containers.deployments import update_deployment
from containers.models import Deployment

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("remove_test_containers")]


@pytest.fixture
def console(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_the_page_shows_the_rollout_and_rolls_back_to_a_revision(demo_image: Any, console: Client) -> None:
    deployment = deploy(demo_image, "console-roll", 2)
    update_deployment(deployment, actor="tests", env={"A": "1"})
    reconcile.converge(deployment.pk)
    url = f"/deployments/{deployment.pk}/"

    page = console.get(url).content.decode()
    assert "Revision <strong>2</strong>" in page and 'data-phase="complete"' in page
    assert '<progress value="2" max="2"' in page
    assert 'data-revision="2"' in page and 'data-revision="1"' in page
    assert "Roll back to revision 1" in page and "Roll back to revision 2" not in page
    assert "1 above, 0 unavailable at most" in page and "automatic rollback on" in page
    assert "no container port" in page
    status = console.get(url + "status/", headers={"HX-Request": "true"}).content.decode()
    assert 'data-phase="complete"' in status  # the polled part carries it too

    answer = console.post(url + "rollback/", {"revision": "1"})
    assert answer.status_code == 302
    deployment.refresh_from_db()
    assert (deployment.generation, deployment.rollout_phase, deployment.env) == (3, "rolling_back", {})
    reconcile.converge(deployment.pk)
    assert 'data-phase="rolled_back"' in console.get(url).content.decode()

    bad = console.post(url + "rollback/", {"revision": "3"}, follow=True).content.decode()
    assert "Not rolled back: revision 3 is the current one" in bad
    assert Deployment.objects.get(pk=deployment.pk).generation == 3


def test_pause_and_resume_from_the_page(demo_image: Any, console: Client) -> None:
    deployment = deploy(demo_image, "console-pause", 1, converge=False)
    url = f"/deployments/{deployment.pk}/"

    console.post(url + "pause/")
    page = console.get(url).content.decode()
    assert "(paused)" in page and "Resume rollout" in page
    assert Deployment.objects.get(pk=deployment.pk).paused

    console.post(url + "resume/")
    assert "Pause rollouts" in console.get(url).content.decode()
    assert not Deployment.objects.get(pk=deployment.pk).paused
    assert console.get(url + "pause/").status_code == 405
