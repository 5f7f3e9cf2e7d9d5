"""Reading a container's counters from cgroup files: every layout (v1/v2, cgroupfs/systemd) on fixture
files, the stats API's JSON, and this machine's real layout on a real container."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from conftest import TEST_INSTANCE, docker_cli
from containers import engine
from containers.models import Image
from health import cgroups, stats_api

CID = "4f2b" + "0" * 60
MIB = 1024 * 1024

# The kernel's format (columns narrowed): receive bytes first, transmit bytes ninth after the colon.
NET_DEV = """Inter-|   Receive                                      |  Transmit
 face |bytes packets errs drop fifo frame compressed multicast|bytes packets errs drop fifo colls carrier compressed
    lo:  9999    10    0    0    0     0          0         0  9999    10    0    0    0     0       0          0
  eth0:  1500    12    0    0    0     0          0         0   700     7    0    0    0     0       0          0
  eth1:   500     3    0    0    0     0          0         0   300     2    0    0    0     0       0          0
"""

V1_FILES = {
    "cpuacct": {"cpuacct.usage": "123456789\n", "cgroup.procs": "4242\n4243\n"},
    "memory": {
        "memory.usage_in_bytes": f"{12 * MIB}\n",
        "memory.limit_in_bytes": f"{16 * MIB}\n",
        "memory.stat": f"cache 1000\nrss 2000\ninactive_file 7\ntotal_inactive_file {2 * MIB}\ntotal_rss 2000\n",
    },
    "blkio": {
        "blkio.throttle.io_service_bytes": (
            "8:0 Read 4096\n8:0 Write 8192\n8:0 Sync 0\n8:0 Async 12288\n8:0 Discard 0\n8:0 Total 12288\n"
            "8:16 Read 1000\n8:16 Write 24\nTotal 13312\n"
        )
    },
    "pids": {"pids.current": "3\n"},
}

V2_FILES = {
    "cpu.stat": "usage_usec 123456\nuser_usec 100000\nsystem_usec 23456\n",
    "memory.current": f"{12 * MIB}\n",
    "memory.max": f"{16 * MIB}\n",
    "memory.stat": f"anon 2000\nfile 3000\ninactive_file {2 * MIB}\nactive_file 10\n",
    "io.stat": "8:0 rbytes=4096 wbytes=8192 rios=1 wios=2 dbytes=0 dios=0\n8:16 rbytes=1000 wbytes=24 rios=1 wios=1\n",
    "pids.current": "3\n",
    "cgroup.procs": "4242\n",
}


def write(directory: Path, files: dict[str, str]) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (directory / name).write_text(text)


def proc_with_net(tmp_path: Path) -> Path:
    proc = tmp_path / "proc"
    write(proc / "4242" / "net", {"dev": NET_DEV})
    return proc


@pytest.mark.parametrize(
    ("driver", "leaf"), [("cgroupfs", f"docker/{CID}"), ("systemd", f"system.slice/docker-{CID}.scope")]
)
def test_it_reads_every_figure_on_cgroup_v1(tmp_path: Path, driver: str, leaf: str) -> None:
    root = tmp_path / "cgroup"
    for controller, files in V1_FILES.items():
        write(root / controller / leaf, files)
    layout = cgroups.detect("1", driver, root)

    reading = cgroups.read(layout, CID, proc_with_net(tmp_path))

    assert reading.source == "cgroup"
    assert reading.cpu_usage_ns == 123456789
    assert reading.memory_usage_bytes == 12 * MIB
    assert reading.memory_inactive_file_bytes == 2 * MIB  # the hierarchical total, as docker stats
    assert reading.memory_used_bytes == 10 * MIB
    assert reading.memory_limit_bytes == 16 * MIB
    assert (reading.blk_read_bytes, reading.blk_write_bytes) == (5096, 8216)
    assert reading.pids == 3
    assert (reading.net_rx_bytes, reading.net_tx_bytes) == (2000, 1000)  # loopback left out
    assert abs(reading.at - time.time()) < 5


def test_on_cgroup_v1_the_memory_limit_comes_from_memory_stat_when_it_has_it(tmp_path: Path) -> None:
    root = tmp_path / "cgroup"
    files = {name: dict(controller) for name, controller in V1_FILES.items()}
    del files["memory"]["memory.limit_in_bytes"]  # not opened: memory.stat says it
    files["memory"]["memory.stat"] += f"hierarchical_memory_limit {32 * MIB}\nhierarchical_memsw_limit {32 * MIB}\n"
    for controller, controller_files in files.items():
        write(root / controller / f"docker/{CID}", controller_files)
    unlimited = {
        **files["memory"],
        "memory.stat": "total_inactive_file 0\nhierarchical_memory_limit 9223372036854771712\n",
    }
    other = "f" * 64
    for controller, controller_files in {**files, "memory": unlimited}.items():
        write(root / controller / f"docker/{other}", controller_files)
    layout = cgroups.detect("1", "cgroupfs", root)

    assert cgroups.read(layout, CID, proc_with_net(tmp_path)).memory_limit_bytes == 32 * MIB
    assert cgroups.read(layout, other, proc_with_net(tmp_path)).memory_limit_bytes is None


@pytest.mark.parametrize(
    ("driver", "leaf"), [("cgroupfs", f"docker/{CID}"), ("systemd", f"system.slice/docker-{CID}.scope")]
)
def test_it_reads_every_figure_on_cgroup_v2(tmp_path: Path, driver: str, leaf: str) -> None:
    root = tmp_path / "cgroup"
    write(root / leaf, V2_FILES)
    layout = cgroups.detect("2", driver, root)

    reading = cgroups.read(layout, CID, proc_with_net(tmp_path))

    assert reading.cpu_usage_ns == 123456 * 1000
    assert reading.memory_used_bytes == 10 * MIB
    assert reading.memory_limit_bytes == 16 * MIB
    assert (reading.blk_read_bytes, reading.blk_write_bytes) == (5096, 8216)
    assert reading.pids == 3
    assert (reading.net_rx_bytes, reading.net_tx_bytes) == (2000, 1000)


def test_an_unlimited_memory_reads_as_no_limit() -> None:
    assert cgroups.parse_limit("max\n") is None
    assert cgroups.parse_limit("9223372036854771712\n") is None
    assert cgroups.parse_limit("16777216\n") == 16 * MIB


def test_optional_files_that_are_missing_cost_only_their_figures(tmp_path: Path) -> None:
    root = tmp_path / "cgroup"
    write(root / f"docker/{CID}", {k: v for k, v in V2_FILES.items() if k in ("cpu.stat", "memory.current")})
    write(root / f"docker/{CID}", {"memory.max": "max\n", "memory.stat": "inactive_file 0\n"})

    reading = cgroups.read(cgroups.detect("2", "cgroupfs", root), CID, tmp_path / "no-proc")

    assert reading.cpu_usage_ns == 123456000 and reading.memory_limit_bytes is None
    assert reading.pids is None and reading.net_rx_bytes is None and reading.blk_read_bytes is None


def test_a_container_without_cgroup_files_is_unreadable(tmp_path: Path) -> None:
    layout = cgroups.detect("1", "cgroupfs", tmp_path)

    with pytest.raises(cgroups.Unreadable):
        cgroups.read(layout, CID)


def test_the_version_is_guessed_from_the_mount_when_the_engine_does_not_say(tmp_path: Path) -> None:
    assert cgroups.detect("", "cgroupfs", tmp_path).version == 1
    (tmp_path / "cgroup.controllers").write_text("cpu memory io pids\n")
    assert cgroups.detect("", "systemd", tmp_path) == cgroups.Layout(2, True, tmp_path)


@pytest.mark.parametrize("version", ["v1", "v2"])
def test_the_stats_api_answer_parses_to_the_same_figures(version: str) -> None:
    inactive = {"total_inactive_file": 2 * MIB} if version == "v1" else {"inactive_file": 2 * MIB}
    raw = {
        "read": "2026-01-01T00:00:00.1Z",
        "cpu_stats": {"cpu_usage": {"total_usage": 123456789}},
        "memory_stats": {"usage": 12 * MIB, "limit": 16 * MIB, "stats": inactive},
        "networks": {"eth0": {"rx_bytes": 1500, "tx_bytes": 700}, "eth1": {"rx_bytes": 500, "tx_bytes": 300}},
        "blkio_stats": {
            "io_service_bytes_recursive": [
                {"major": 8, "minor": 0, "op": "Read" if version == "v1" else "read", "value": 4096},
                {"major": 8, "minor": 0, "op": "Write" if version == "v1" else "write", "value": 8192},
                {"major": 8, "minor": 0, "op": "Total", "value": 12288},
            ]
        },
        "pids_stats": {"current": 3},
    }

    reading = stats_api.parse(raw, at=1.0)

    assert reading.source == "api" and reading.cpu_usage_ns == 123456789
    assert reading.memory_used_bytes == 10 * MIB and reading.memory_limit_bytes == 16 * MIB
    assert (reading.net_rx_bytes, reading.net_tx_bytes) == (2000, 1000)
    assert (reading.blk_read_bytes, reading.blk_write_bytes) == (4096, 8192)
    assert reading.pids == 3


@pytest.fixture
def real_container(demo_image: Image) -> Iterator[str]:
    """A demo container run directly, labelled with this test run's instance, removed afterwards."""
    name = f"orchestrator-test-cgroups-{uuid.uuid4().hex[:6]}"
    container_id = docker_cli(
        "run", "-d", "--name", name, "--label", f"{engine.LABEL_INSTANCE}={TEST_INSTANCE}",
        "--cpus", "0.1", "--memory", "16m", demo_image.reference,
    )  # fmt: skip
    yield container_id
    docker_cli("rm", "-f", container_id)


@pytest.mark.django_db
def test_it_reads_a_real_container_on_this_machines_layout(real_container: str) -> None:
    host = engine.host_info()
    layout = cgroups.detect(host.cgroup_version, host.cgroup_driver, Path("/sys/fs/cgroup"))

    reading = cgroups.read(layout, real_container)
    api = stats_api.read_one(real_container)

    assert reading.cpu_usage_ns > 0 and reading.pids is not None and reading.pids >= 1
    assert 0 < reading.memory_used_bytes < 16 * MIB and reading.memory_limit_bytes == 16 * MIB
    assert reading.net_rx_bytes is not None and reading.net_tx_bytes is not None
    # The engine reads the same files: its figures agree with ours.
    assert api is not None and api.memory_limit_bytes == 16 * MIB
    assert api.cpu_usage_ns >= reading.cpu_usage_ns - 1 and api.pids == reading.pids
