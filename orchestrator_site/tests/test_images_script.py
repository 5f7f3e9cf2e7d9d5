"""scripts/images.sh when the base image can't be built: one clear line, and no image half made.

Each case asks for a base image under a tag of its own that does not exist, so the cached base
is never touched, and checks that the tag still does not exist afterwards.
"""

from __future__ import annotations

import os
import subprocess
import uuid
from pathlib import Path

import pytest

from conftest import TEST_IMAGE_PREFIX

pytestmark = pytest.mark.stack

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "images.sh"


def missing_base() -> str:
    return f"{TEST_IMAGE_PREFIX}base-never-built:{uuid.uuid4().hex[:8]}"


def image_exists(reference: str) -> bool:
    return subprocess.run(["docker", "image", "inspect", reference], capture_output=True).returncode == 0


def run(env: dict[str, str], prefix: list[str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*(prefix or []), str(SCRIPT), "base"],
        cwd=ROOT,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def assert_one_line(result: subprocess.CompletedProcess[str], *words: str) -> None:
    assert result.returncode == 1, result
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("images.sh: error: "), lines[0]
    for word in words:
        assert word in lines[0], lines[0]
    assert result.stdout == ""


def test_it_says_in_one_line_that_debootstrap_is_missing_when_not_root() -> None:
    base = missing_base()
    # An unprivileged user that may use the engine (the socket's group), with no debootstrap.
    socket_gid = os.stat("/var/run/docker.sock").st_gid
    nobody = ["setpriv", "--reuid=65534", f"--regid={socket_gid}", "--clear-groups"]
    result = run({"BASE_IMAGE": base, "DEBOOTSTRAP": "/nonexistent/debootstrap", "HOME": "/tmp"}, nobody)
    assert_one_line(result, "debootstrap is not installed", "not root")
    assert not image_exists(base)


def test_it_says_in_one_line_that_root_is_needed_when_debootstrap_is_there() -> None:
    base = missing_base()
    socket_gid = os.stat("/var/run/docker.sock").st_gid
    nobody = ["setpriv", "--reuid=65534", f"--regid={socket_gid}", "--clear-groups"]
    result = run({"BASE_IMAGE": base, "DEBOOTSTRAP": "/bin/true", "HOME": "/tmp"}, nobody)
    assert_one_line(result, "needs root")
    assert not image_exists(base)


def test_it_says_in_one_line_that_the_mirror_does_not_answer() -> None:
    base = missing_base()
    leftovers_before = set(Path("/var/tmp").glob("orchestrator-base.*"))
    # Nothing listens on the discard port: the mirror is unreachable, as without a network.
    result = run({"BASE_IMAGE": base, "DEBIAN_MIRROR": "http://127.0.0.1:9/debian"})
    assert_one_line(result, "http://127.0.0.1:9/debian", "does not answer")
    assert not image_exists(base)
    assert set(Path("/var/tmp").glob("orchestrator-base.*")) == leftovers_before


def test_it_says_in_one_line_that_no_mirror_is_configured(tmp_path: Path) -> None:
    base = missing_base()
    (tmp_path / "sources.list.d").mkdir()
    (tmp_path / "sources.list.d" / "other.sources").write_text(
        "Types: deb\nURIs: http://127.0.0.1:9/other\nSuites: nodistro\nComponents: main\n"
    )
    result = run({"BASE_IMAGE": base, "APT_SOURCES": str(tmp_path), "DEBIAN_MIRROR": ""})
    assert_one_line(result, "no Debian mirror for bookworm", "DEBIAN_MIRROR")
    assert not image_exists(base)


def test_it_refuses_an_unknown_image_name() -> None:
    result = subprocess.run([str(SCRIPT), "mysql"], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert result.returncode == 1
    assert result.stderr.strip() == (
        "images.sh: error: unknown image 'mysql' (one of: base app postgres redis haproxy nginx)"
    )
