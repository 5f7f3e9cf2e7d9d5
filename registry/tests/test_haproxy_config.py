"""The pure side of the load balancer: slot assignment, Runtime API commands, parsing HAProxy's answers."""

from __future__ import annotations

from registry.haproxy_config import (
    DRAIN,
    MAINT,
    READY,
    Backend,
    Paths,
    Server,
    Slot,
    assign,
    commands,
    parse_servers_state,
    parse_stat,
    render,
    slot_count,
)


def slots(*specs: tuple[str, int, str]) -> list[Slot]:
    return [Slot("web", f"s{i}", addr, port, state) for i, (addr, port, state) in enumerate(specs, 1)]


def test_slot_counts_are_powers_of_two_above_the_minimum() -> None:
    assert [slot_count(n, 8) for n in (0, 8, 9, 1000)] == [8, 8, 16, 1024]


def test_an_endpoint_keeps_its_slot_and_newcomers_take_maintenance_slots_first() -> None:
    current = slots(("127.0.0.1", 1, MAINT), ("127.0.0.1", 5001, READY), ("127.0.0.1", 5002, READY))
    wanted = [Server("127.0.0.1", 5002, READY), Server("127.0.0.1", 5003, READY)]

    target = assign(wanted, current)

    assert target == {"s3": wanted[0], "s1": wanted[1], "s2": None}


def test_commands_take_a_slot_out_before_moving_it_and_say_nothing_when_in_sync() -> None:
    current = slots(("127.0.0.1", 5001, READY), ("127.0.0.1", 5002, READY))
    target = {"s1": Server("127.0.0.1", 5009, READY), "s2": Server("127.0.0.1", 5002, DRAIN)}

    assert commands("web", current, target) == [
        "set server be_web/s1 state maint",
        "set server be_web/s1 addr 127.0.0.1 port 5009",
        "set server be_web/s1 state ready",
        "set server be_web/s2 state drain",
    ]
    assert (
        commands("web", current, assign([Server("127.0.0.1", 5001, READY), Server("127.0.0.1", 5002, READY)], current))
        == []
    )


def test_more_servers_than_slots_is_an_error_the_caller_reloads_for() -> None:
    try:
        assign([Server("127.0.0.1", p, READY) for p in (1, 2, 3)], slots(("127.0.0.1", 1, MAINT)))
    except ValueError as exc:
        assert "free slots" in str(exc)
    else:
        raise AssertionError("expected ValueError")


def test_the_config_binds_loopback_and_puts_servers_in_their_slots() -> None:
    backend = Backend("web", 20001, "http", (Server("127.0.0.1", 5001, READY),))
    text = render([backend], {"web": {"s1": backend.servers[0], "s2": None}}, Paths("/tmp/x/admin.sock"))

    assert "bind 127.0.0.1:20001" in text
    assert "server s1 127.0.0.1:5001 check\n" in text
    assert "server s2 127.0.0.1:1 check disabled" in text
    assert "stats socket /tmp/x/admin.sock mode 600 level admin expose-fd listeners" in text


SERVERS_STATE = """1
# be_id be_name srv_id srv_name srv_addr srv_op_state srv_admin_state ... srv_port ...
3 be_web 1 s1 127.0.0.1 2 4 1 1 0 1 0 2 6 0 0 0 - 5001 - 0 0 - - 0
3 be_web 2 s2 127.0.0.1 2 12 1 1 0 6 3 4 6 0 0 0 - 5002 - 0 0 - - 0
3 be_web 10 s10 127.0.0.1 0 5 1 1 6 1 0 0 14 0 0 0 - 1 - 0 0 - - 0
4 other 1 x 127.0.0.1 0 5 1 1 6 1 0 0 14 0 0 0 - 1 - 0 0 - - 0
"""


def test_show_servers_state_is_read_as_ready_drain_and_maintenance() -> None:
    parsed = parse_servers_state(SERVERS_STATE)

    assert list(parsed) == ["web"]
    assert [(s.name, s.port, s.state, s.operational) for s in parsed["web"]] == [
        ("s1", 5001, READY, "up"),
        ("s2", 5002, DRAIN, "up"),
        ("s10", 1, MAINT, "down"),
    ]


def test_show_stat_gives_sessions_and_rate_per_server() -> None:
    text = (
        "# pxname,svname,qcur,qmax,scur,smax,slim,stot,status,rate\n"
        "be_web,s1,0,0,3,4,,17,UP,2\n"
        "be_web,BACKEND,0,0,3,4,,17,UP,2\n"
    )

    stats = parse_stat(text)

    assert list(stats) == [("web", "s1")]
    assert (stats[("web", "s1")].sessions, stats[("web", "s1")].total, stats[("web", "s1")].rate) == (3, 17, 2)
