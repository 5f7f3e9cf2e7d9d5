"""Two customers in two browser contexts see only their own deployments; a viewer gets no scale
buttons (and the server refuses a scale posted anyway)."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import Browser, expect

from conftest import deploy, make_member
from containers.models import Deployment
from containers.tests.browser.conftest import PASSWORD
from containers.tests.browser.pages import HEIGHT, WIDTH, log_in
from tenancy.models import Membership, Organization

pytestmark = pytest.mark.django_db(transaction=True)


def logged_in(browser: Browser, live_server: Any, username: str) -> Any:
    context = browser.new_context(viewport={"width": WIDTH, "height": HEIGHT}, base_url=live_server.url)
    page = context.new_page()
    log_in(page, username, PASSWORD)
    expect(page.get_by_role("heading", level=1)).to_have_text("Dashboard")
    return context, page


def test_two_organizations_see_only_their_own_deployments(browser: Browser, live_server: Any, demo_image: Any) -> None:
    alpha = Organization.objects.create(name="Alpha", slug="alpha")
    beta = Organization.objects.create(name="Beta", slug="beta")
    make_member("alice", alpha, "operator")
    make_member("bob", beta, "operator")
    deploy(demo_image, "alpha-web", replicas=0, organization=alpha, converge=False)
    deploy(demo_image, "beta-web", replicas=0, organization=beta, converge=False)
    alice_context, alice = logged_in(browser, live_server, "alice")
    bob_context, bob = logged_in(browser, live_server, "bob")
    try:
        alice.goto("/deployments/")
        bob.goto("/deployments/")

        expect(alice.get_by_role("link", name="alpha-web")).to_be_visible()
        expect(bob.get_by_role("link", name="beta-web")).to_be_visible()
        expect(alice.get_by_text("beta-web")).to_have_count(0)
        expect(bob.get_by_text("alpha-web")).to_have_count(0)
        # Both operators may scale their own.
        expect(alice.get_by_role("button", name="One replica more for alpha-web")).to_be_visible()
        # Bob typing Alice's deployment's address gets a 404.
        theirs = Deployment.objects.get(name="alpha-web")
        response = bob.goto(f"/deployments/{theirs.pk}/")
        assert response is not None and response.status == 404
    finally:
        alice_context.close()
        bob_context.close()


def test_a_viewer_sees_no_scale_buttons_and_a_posted_scale_is_refused(
    browser: Browser, live_server: Any, demo_image: Any
) -> None:
    alpha = Organization.objects.create(name="Alpha", slug="alpha")
    make_member("vera", alpha, "viewer")
    web = deploy(demo_image, "alpha-web", replicas=0, organization=alpha, converge=False)
    context, page = logged_in(browser, live_server, "vera")
    try:
        page.goto("/deployments/")
        expect(page.get_by_role("link", name="alpha-web")).to_be_visible()
        expect(page.get_by_role("button", name="One replica more for alpha-web")).to_have_count(0)
        expect(page.get_by_role("link", name="New deployment")).to_have_count(0)

        page.goto(f"/deployments/{web.pk}/")
        expect(page.get_by_role("heading", level=1)).to_have_text("alpha-web")
        expect(page.locator("#scale-up")).to_have_count(0)
        expect(page.get_by_role("link", name="Edit")).to_have_count(0)
        expect(page.get_by_role("link", name="Delete…")).to_have_count(0)

        # The page has no button, so post by hand with the page's own CSRF cookie: refused.
        token = next(c["value"] for c in context.cookies() if c["name"] == "csrftoken")
        answer = page.request.post(
            f"/deployments/{web.pk}/scale/", form={"replicas": "3"}, headers={"X-CSRFToken": token}
        )
        assert answer.status == 403
        web.refresh_from_db()
        assert web.replicas == 0
    finally:
        context.close()


def test_a_member_of_two_organizations_switches_with_the_header_select(
    browser: Browser, live_server: Any, demo_image: Any
) -> None:
    """The switcher submits from console.js (the Content-Security-Policy refuses inline handlers):
    choosing the other organization shows its deployments, and nothing is refused by the policy."""
    alpha = Organization.objects.create(name="Alpha", slug="alpha")
    beta = Organization.objects.create(name="Beta", slug="beta")
    carol = make_member("carol", alpha, "operator")
    Membership.objects.create(user=carol, organization=beta, role="viewer")
    deploy(demo_image, "alpha-web", replicas=0, organization=alpha, converge=False)
    deploy(demo_image, "beta-web", replicas=0, organization=beta, converge=False)
    context, page = logged_in(browser, live_server, "carol")
    refused: list[str] = []
    page.on("console", lambda message: refused.extend([message.text] if "Content Security" in message.text else []))
    try:
        page.goto("/deployments/")
        expect(page.get_by_role("link", name="alpha-web")).to_be_visible()
        expect(page.get_by_text("beta-web")).to_have_count(0)

        with page.expect_navigation():
            page.get_by_label("Organization").select_option(label="Beta")

        page.goto("/deployments/")
        expect(page.get_by_role("link", name="beta-web")).to_be_visible()
        expect(page.get_by_text("alpha-web")).to_have_count(0)
        # A viewer in Beta: no scale buttons there.
        expect(page.get_by_role("button", name="One replica more for beta-web")).to_have_count(0)
        assert refused == []
    finally:
        context.close()
