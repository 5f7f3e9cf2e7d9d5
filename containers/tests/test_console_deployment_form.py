"""``/deployments/new/`` and ``/deployments/<pk>/edit/``: the form, its inline errors, the refusals of the
action functions, env values kept secret, and the plan preview step (nothing saved).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from decimal import Decimal
from html import unescape
from typing import Any

import pytest
from django.test import Client

from containers import deployments, engine, reconcile
from containers.models import Deployment, Event, Image

pytestmark = pytest.mark.django_db

HTMX = {"HX-Request": "true"}
SECRET = "s3cret-value-that-must-not-leak"


@pytest.fixture
def admin(client: Client, user: Any) -> Client:
    client.force_login(user)
    return client


@pytest.fixture
def image(db: None) -> Image:
    # A row is enough for the form's checks; tests that converge use the demo image instead.
    return Image.objects.create(reference="orchestrator-test/form:1")


@pytest.fixture
def _remove_this_run_s_containers() -> Iterator[None]:
    yield
    for info in engine.list_containers(engine.instance_labels()):
        engine.remove_container(info.id)


def form_data(image: Image, **overrides: Any) -> dict[str, Any]:
    data = {
        "name": "form-web",
        "image": image.pk,
        "replicas": "2",
        "cpu_limit": "0.05",
        "memory_limit": "16m",
        "container_port": "8080",
        "command": "",
        "env": "",
        "restart_policy": "no",
    }
    data.update(overrides)
    return data


def text(html: str) -> str:
    """The page's words without tags or runs of whitespace, to read it as a person would."""
    return unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)))


def field_error(html: str, field: str) -> str:
    """The error shown under a field, checking the input points at it (aria-invalid, aria-describedby)."""
    tag = re.search(rf'<(?:input|select|textarea)[^>]*name="{field}"[^>]*>', html)
    assert tag, f"no {field} field"
    assert 'aria-invalid="true"' in tag.group(0), tag.group(0)
    assert f"id_{field}_error" in re.search(r'aria-describedby="([^"]*)"', tag.group(0)).group(1)
    error = re.search(rf'<small class="error" id="id_{field}_error"[^>]*>(.*?)</small>', html, re.S)
    assert error, f"no error shown under {field}"
    return error.group(1)


def test_the_new_form_offers_the_images_and_the_default_limits(admin: Client, image: Image) -> None:
    html = admin.get("/deployments/new/").content.decode()

    assert f'<option value="{image.pk}">orchestrator-test/form:1</option>' in html
    assert 'name="cpu_limit" value="0.5"' in html and 'name="memory_limit" value="128m"' in html
    assert 'name="csrfmiddlewaretoken"' in html
    assert 'hx-post="/deployments/new/preview/"' in html and 'formaction="/deployments/new/preview/"' in html


def test_creating_through_the_form_writes_the_row_and_an_event_with_the_user(
    admin: Client, image: Image, user: Any
) -> None:
    response = admin.post(
        "/deployments/new/", form_data(image, command="sh -c 'echo hi; sleep 1'", env=f"A=1\nTOKEN={SECRET}")
    )

    deployment = Deployment.objects.get(name="form-web")
    assert response.status_code == 302 and response["Location"] == f"/deployments/{deployment.pk}/"
    assert deployment.replicas == 2 and deployment.cpu_limit == Decimal("0.05")
    assert deployment.memory_limit_bytes == 16 * 1024**2 and deployment.container_port == 8080
    assert deployment.command == ["sh", "-c", "echo hi; sleep 1"]
    assert deployment.env == {"A": "1", "TOKEN": SECRET}
    event = Event.objects.get(kind="deployment.created")
    assert event.actor == user.username and event.deployment == deployment


def test_with_htmx_a_create_redirects_the_browser_to_the_new_page(admin: Client, image: Image) -> None:
    response = admin.post("/deployments/new/", form_data(image), headers=HTMX)

    assert response.status_code == 200
    assert response["HX-Redirect"] == f"/deployments/{Deployment.objects.get().pk}/"


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("memory_limit", "abc", "is not a size"),
        ("memory_limit", "1m", "at least 6m"),
        ("cpu_limit", "0", "at least 0.01"),
        ("cpu_limit", "lots", "not a number of CPU cores"),
        ("replicas", "-1", "greater than or equal to 0"),
        ("replicas", "101", "at most 100"),
        ("name", "Not A Slug", "use lowercase letters only"),
        ("container_port", "70000", "less than or equal to 65535"),
        ("command", "echo 'unclosed", "cannot split the command"),
        ("env", "NOT VALID", "expected NAME=value"),
    ],
)
def test_a_bad_value_is_shown_next_to_its_field_and_nothing_is_created(
    admin: Client, image: Image, field: str, value: str, message: str, settings: Any
) -> None:
    settings.MAX_REPLICAS = 100

    response = admin.post("/deployments/new/", form_data(image, **{field: value}))

    assert response.status_code == 200
    assert message in field_error(response.content.decode(), field)
    assert not Deployment.objects.exists()


def test_a_taken_name_is_refused_by_the_action_and_shown_at_the_name(admin: Client, image: Image) -> None:
    Deployment.objects.create(name="form-web", image=image, memory_limit_bytes=16 * 1024**2)

    response = admin.post("/deployments/new/", form_data(image))

    assert response.status_code == 200
    assert "already exists" in field_error(response.content.decode(), "name")
    assert Deployment.objects.count() == 1
    assert Event.objects.filter(kind="request.refused", after={"field": "name"}).exists()


def test_not_enough_host_memory_is_shown_at_replicas_in_round_numbers(admin: Client, image: Image) -> None:
    response = admin.post("/deployments/new/", form_data(image, replicas="10", memory_limit="1t"))

    html = response.content.decode()
    assert response.status_code == 200
    error = field_error(html, "replicas")
    assert re.match(
        r"not enough host resources: memory: 10240 GiB would be reserved, the host allows [\d.]+ GiB", error
    )
    assert not Deployment.objects.exists()


def test_the_edit_page_never_renders_env_values_but_names_the_keys(admin: Client, image: Image) -> None:
    deployment = deployments.create_deployment(
        actor="tests", name="form-env", image=image, memory_limit_bytes=16 * 1024**2, env={"TOKEN": SECRET, "MODE": "x"}
    )

    html = admin.get(f"/deployments/{deployment.pk}/edit/").content.decode()
    detail = admin.get(f"/deployments/{deployment.pk}/").content.decode()

    assert SECRET not in html and SECRET not in detail
    assert "Set now: MODE, TOKEN. Leave empty to keep the current values." in text(html)
    assert 'name="name"' not in html  # the name cannot change


def test_an_edit_with_an_empty_env_keeps_the_values_and_a_filled_one_replaces_them(
    admin: Client, image: Image, user: Any
) -> None:
    deployment = deployments.create_deployment(
        actor="tests", name="form-edit", image=image, memory_limit_bytes=16 * 1024**2, env={"TOKEN": SECRET}
    )
    url = f"/deployments/{deployment.pk}/edit/"

    kept = admin.post(url, form_data(image, name="", memory_limit="24m"))
    deployment.refresh_from_db()
    assert kept.status_code == 302
    assert deployment.env == {"TOKEN": SECRET} and deployment.memory_limit_bytes == 24 * 1024**2
    assert deployment.generation == 2  # a spec change: a new generation
    assert Event.objects.get(kind="deployment.updated").actor == user.username

    admin.post(url, form_data(image, memory_limit="24m", env="OTHER=1"))
    deployment.refresh_from_db()
    assert deployment.env == {"OTHER": "1"}

    admin.post(url, form_data(image, memory_limit="24m", clear_env="on"))
    deployment.refresh_from_db()
    assert deployment.env == {}


def test_a_bad_edit_changes_nothing(admin: Client, image: Image) -> None:
    deployment = deployments.create_deployment(
        actor="tests", name="form-bad", image=image, memory_limit_bytes=16 * 1024**2
    )

    response = admin.post(f"/deployments/{deployment.pk}/edit/", form_data(image, cpu_limit="0"))

    assert "at least 0.01" in field_error(response.content.decode(), "cpu_limit")
    deployment.refresh_from_db()
    assert deployment.cpu_limit == Decimal("0.5") and deployment.generation == 1


def test_preview_of_a_new_deployment_shows_the_plan_and_saves_nothing(admin: Client, image: Image) -> None:
    response = admin.post("/deployments/new/preview/", form_data(image), headers=HTMX)

    html = response.content.decode()
    assert response.status_code == 200
    assert html.lstrip().startswith('<article id="deployment-form"')  # the form, with the plan under it
    assert "create 2 containers (generation 1)" in text(html)
    assert "Accepted" in html
    assert not Deployment.objects.exists()
    assert not Event.objects.exists()


def test_preview_without_javascript_is_the_whole_page(admin: Client, image: Image) -> None:
    response = admin.post("/deployments/new/preview/", form_data(image, replicas="1"))

    html = response.content.decode()
    assert "<!doctype html>" in html and "create 1 container (generation 1)" in text(html)


def test_preview_says_a_taken_name_or_a_full_host_would_be_refused_without_recording_it(
    admin: Client, image: Image
) -> None:
    Deployment.objects.create(name="form-web", image=image, memory_limit_bytes=16 * 1024**2)

    taken = admin.post("/deployments/new/preview/", form_data(image), headers=HTMX).content.decode()
    full = admin.post(
        "/deployments/new/preview/", form_data(image, name="other", replicas="10", memory_limit="1t"), headers=HTMX
    ).content.decode()

    # At the field it names, and no plan under it: nothing would happen.
    assert "already exists" in field_error(taken, "name") and "form-web" in field_error(taken, "name")
    assert "Would be refused (see the field marked above). Nothing would change." in text(taken)
    assert "not enough host resources: memory" in field_error(full, "replicas")
    assert 'class="plan"' not in taken and 'class="plan"' not in full
    assert not Event.objects.exists()


def test_preview_with_a_bad_value_shows_the_error_at_the_field(admin: Client, image: Image) -> None:
    html = admin.post("/deployments/new/preview/", form_data(image, memory_limit="abc"), headers=HTMX).content.decode()

    assert "is not a size" in field_error(html, "memory_limit")
    assert "Fix the fields marked above to see the plan." in html


@pytest.mark.usefixtures("_remove_this_run_s_containers")
def test_preview_of_a_memory_change_says_every_container_is_recreated(admin: Client, demo_image: Image) -> None:
    deployment = deployments.create_deployment(
        actor="tests", name="form-recreate", image=demo_image, replicas=2, cpu_limit=Decimal("0.05"),
        memory_limit_bytes=16 * 1024**2,
    )  # fmt: skip
    reconcile.converge(deployment.pk)
    names = sorted(c.name for c in engine.list_containers(engine.deployment_labels(deployment.pk)))

    html = admin.post(
        f"/deployments/{deployment.pk}/edit/preview/",
        form_data(demo_image, memory_limit="24m", container_port=""),
        headers=HTMX,
    ).content.decode()

    words = text(html)
    assert "recreate 2 containers: the memory limit changes" in words
    assert "create 2 containers (generation 2)" in words
    assert all(f"remove {name} — outdated (generation 1)" in words for name in names)
    deployment.refresh_from_db()
    assert deployment.memory_limit_bytes == 16 * 1024**2 and deployment.generation == 1


def test_the_forms_need_a_login(client: Client) -> None:
    assert client.post("/deployments/new/preview/", {})["Location"].startswith("/accounts/login/")
    assert client.post("/deployments/new/", {})["Location"].startswith("/accounts/login/")


@pytest.fixture
def engine_down(settings: Any) -> Iterator[None]:
    """The engine door pointed at a socket that does not exist, then put back."""
    settings.DOCKER_HOST = "unix:///nonexistent/docker.sock"
    engine.reset_client()
    yield
    settings.DOCKER_HOST = ""
    engine.reset_client()


@pytest.mark.usefixtures("engine_down")
def test_with_the_engine_down_the_form_says_so_and_creates_nothing(admin: Client, image: Image) -> None:
    applied = admin.post("/deployments/new/", form_data(image)).content.decode()
    previewed = admin.post("/deployments/new/preview/", form_data(image), headers=HTMX).content.decode()

    assert "The Docker engine is not answering" in applied
    assert "The Docker engine is not answering" in previewed and "No plan: the error above stops it." in previewed
    assert not Deployment.objects.exists()


STRATEGY = {
    "max_surge": "3",
    "max_unavailable": "1",
    "min_ready_seconds": "2",
    "progress_deadline_s": "60",
    "drain_timeout_s": "2.5",
    "stop_grace_s": "5",
    "auto_rollback": "false",
}


def test_the_edit_form_shows_and_saves_the_rollout_strategy_without_a_new_revision(admin: Client, image: Image) -> None:
    deployment = deployments.create_deployment(
        actor="tests", name="form-strategy", image=image, memory_limit_bytes=16 * 1024**2
    )
    url = f"/deployments/{deployment.pk}/edit/"
    html = admin.get(url).content.decode()
    assert 'id="rollout-strategy"' in html
    assert re.search(r'name="max_surge"[^>]*value="1"', html)
    assert re.search(r'name="progress_deadline_s"[^>]*value="120"', html)

    same_spec = form_data(image, replicas="0", cpu_limit="0.5", container_port="")
    response = admin.post(url, {**same_spec, **STRATEGY})

    assert response.status_code == 302
    deployment.refresh_from_db()
    assert (deployment.max_surge, deployment.max_unavailable, deployment.min_ready_seconds) == (3, 1, 2)
    assert (deployment.progress_deadline_s, deployment.drain_timeout_s, deployment.stop_grace_s) == (60, 2.5, 5)
    assert deployment.auto_rollback is False
    assert deployment.generation == 1  # the strategy is not the container spec: no rollout


def test_a_form_posted_without_the_strategy_keeps_it(admin: Client, image: Image) -> None:
    deployment = deployments.create_deployment(
        actor="tests", name="form-keep", image=image, memory_limit_bytes=16 * 1024**2
    )
    deployments.update_deployment(deployment, actor="tests", max_surge=2, auto_rollback=False)

    admin.post(f"/deployments/{deployment.pk}/edit/", form_data(image, replicas="0", cpu_limit="0.5"))

    deployment.refresh_from_db()
    assert deployment.max_surge == 2 and deployment.auto_rollback is False


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"max_surge": "0", "max_unavailable": "0"}, "max_surge", "cannot both be 0"),
        ({"progress_deadline_s": "0"}, "progress_deadline_s", "1"),
        ({"stop_grace_s": "-1"}, "stop_grace_s", "0"),
        ({"max_unavailable": "x"}, "max_unavailable", "number"),
    ],
)
def test_a_bad_strategy_is_refused_at_its_field_like_the_api_and_changes_nothing(
    admin: Client, image: Image, changes: dict[str, str], field: str, message: str
) -> None:
    deployment = deployments.create_deployment(
        actor="tests", name="form-bad-strategy", image=image, memory_limit_bytes=16 * 1024**2
    )
    before = Deployment.objects.values().get(pk=deployment.pk)

    response = admin.post(
        f"/deployments/{deployment.pk}/edit/", form_data(image, replicas="0", cpu_limit="0.5", **changes)
    )
    api = admin.patch(f"/api/deployments/{deployment.pk}/", changes, content_type="application/json")

    assert response.status_code == 200 and message in field_error(response.content.decode(), field)
    assert api.status_code == 400 and list(api.json()["fields"]) == [field]
    assert Deployment.objects.values().get(pk=deployment.pk) == before


def test_the_action_function_refuses_a_strategy_that_cannot_move_naming_the_field(image: Image) -> None:
    deployment = deployments.create_deployment(
        actor="tests", name="action-strategy", image=image, memory_limit_bytes=16 * 1024**2
    )

    with pytest.raises(deployments.InvalidInput) as stalled:
        deployments.update_deployment(deployment, actor="tests", max_unavailable=0, max_surge=0)
    with pytest.raises(deployments.InvalidInput) as late:
        deployments.update_deployment(deployment, actor="tests", progress_deadline_s=0)

    assert stalled.value.field == "max_surge" and late.value.field == "progress_deadline_s"
    assert late.value.status == 400
    deployment.refresh_from_db()
    assert (deployment.max_surge, deployment.progress_deadline_s) == (1, 120)
