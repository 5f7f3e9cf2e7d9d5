"""Roles as capability sets: pure, no database."""

from __future__ import annotations

from decimal import Decimal

from tenancy import quotas, roles


def test_it_orders_viewer_operator_admin() -> None:
    assert roles.within("viewer", "operator")
    assert roles.within("operator", "admin")
    assert not roles.within("admin", "operator")
    assert not roles.within("operator", "viewer")


def test_billing_and_viewer_are_not_comparable() -> None:
    assert not roles.within("billing", "viewer")
    assert not roles.within("viewer", "billing")
    assert roles.within("billing", "admin")


def test_an_unknown_role_grants_nothing() -> None:
    assert roles.capabilities("root") == frozenset()
    assert not roles.within("root", "admin")
    assert roles.grantable(None) == []


def test_grantable_lists_what_a_role_may_hand_on() -> None:
    assert roles.grantable("admin") == ["viewer", "operator", "admin", "billing"]
    assert roles.grantable("operator") == ["viewer", "operator"]
    assert roles.grantable("viewer") == ["viewer"]


def test_a_quota_problem_names_the_quota_limit_and_what_it_would_reach() -> None:
    limits = {"cpu": Decimal("1"), "memory": None, "containers": 3, "deployments": None, "image_disk": None}

    found = quotas.problems(limits, quotas.Usage(cpu=Decimal("1.5"), containers=3))

    assert len(found) == 1
    assert (found[0].quota, found[0].limit, found[0].would_reach) == ("cpu", "1 cores", "1.5 cores")
    assert "cpu would reach 1.5 cores, the limit is 1 cores" in found[0].message


def test_no_limit_means_no_problem() -> None:
    limits = dict.fromkeys(("cpu", "memory", "containers", "deployments", "image_disk"))

    assert quotas.problems(limits, quotas.Usage(cpu=Decimal(1000), memory=10**15, containers=10**6)) == []


def test_going_down_while_over_a_lowered_quota_is_allowed() -> None:
    limits = {"containers": 2}
    before = quotas.Usage(containers=5)

    assert quotas.problems(limits, quotas.Usage(containers=4), before) == []
    assert [p.quota for p in quotas.problems(limits, quotas.Usage(containers=6), before)] == ["containers"]


def test_bytes_are_shown_in_mebibytes() -> None:
    found = quotas.problems({"memory": 256 * 1024**2}, quotas.Usage(memory=384 * 1024**2))

    assert (found[0].limit, found[0].would_reach) == ("256 MiB", "384 MiB")
