"""The one door to the Docker engine.

Nothing else in the project imports ``docker``. This module builds the client lazily,
turns the SDK's errors into our own exceptions and returns plain dataclasses, so the
rest of the code never sees SDK objects and can be read without knowing the SDK.
"""

from __future__ import annotations

import contextlib
import logging
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import docker
import docker.errors
import requests.exceptions
from django.conf import settings

log = logging.getLogger(__name__)

# Label keys every managed container carries.
LABEL_MANAGED_BY = "orchestrator.managed-by"
LABEL_INSTANCE = "orchestrator.instance"
LABEL_DEPLOYMENT = "orchestrator.deployment"
LABEL_GENERATION = "orchestrator.generation"
LABEL_ORGANIZATION = "orchestrator.organization"
MANAGED_BY = "orchestrator"
# The prototype's troubleshooting guide lists managed containers with `docker ps --filter label=managed-by`:
# every container we create carries it too. Never used to find ours (containers made before it
# existed lack it); instance_labels() does that.
LABEL_SEED_MANAGED_BY = "managed-by"


def instance_labels() -> dict[str, str]:
    """The labels of every container this orchestrator instance manages: how it finds (and adopts) them."""
    return {LABEL_MANAGED_BY: MANAGED_BY, LABEL_INSTANCE: settings.ORCHESTRATOR_INSTANCE}


def deployment_labels(deployment_id: int) -> dict[str, str]:
    """The labels of one deployment's containers."""
    return {**instance_labels(), LABEL_DEPLOYMENT: str(deployment_id)}


class EngineError(Exception):
    """Something the engine refused or failed to do."""


class EngineUnavailable(EngineError):
    """The engine does not answer (not running, socket missing, timed out)."""


class ImageNotFound(EngineError):
    """No such image, locally or in the registry."""


class ContainerNotFound(EngineError):
    """No such container."""


class EngineConflict(EngineError):
    """The engine refused because of the current state (e.g. an image still in use)."""


class InvalidImageArchive(EngineError):
    """An uploaded archive is not a ``docker save`` tar."""


class PullFailed(EngineError):
    """The registry refused the pull (authentication, unknown registry, network)."""


@dataclass(frozen=True)
class ImageInfo:
    id: str
    references: tuple[str, ...]
    size_bytes: int
    created_at: datetime | None
    labels: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class ContainerInfo:
    id: str
    name: str
    labels: dict[str, str]
    state: str  # created, running, restarting, exited, dead, paused, removing
    host_port: int | None
    exit_code: int | None = None
    image_id: str = ""

    @property
    def running(self) -> bool:
        return self.state == "running"

    @property
    def deployment_id(self) -> int | None:
        raw = self.labels.get(LABEL_DEPLOYMENT, "")
        return int(raw) if raw.isdigit() else None

    @property
    def generation(self) -> int:
        raw = self.labels.get(LABEL_GENERATION, "")
        return int(raw) if raw.isdigit() else 0


@dataclass(frozen=True)
class ContainerDetail:
    """What a full inspect adds to :class:`ContainerInfo`."""

    info: ContainerInfo
    started_at: datetime | None
    finished_at: datetime | None
    restart_count: int
    oom_killed: bool
    image_reference: str
    cpu_limit: float | None
    memory_limit_bytes: int | None
    ports: dict[str, Any]
    # The image's HEALTHCHECK as Docker last judged it ("starting", "healthy", "unhealthy"); None without one.
    health_status: str | None = None
    health_failing_streak: int = 0
    # Names of the networks the container is attached to (from NetworkSettings.Networks).
    networks: tuple[str, ...] = ()


@dataclass(frozen=True)
class ContainerSpec:
    """What a container is made from. Every container is locked down the same way (see
    :func:`run_container`); ``cap_add``, ``read_only`` and ``disk_limit_bytes`` loosen or tighten that."""

    name: str
    image: str
    labels: dict[str, str]
    cpu_limit: float
    memory_limit_bytes: int
    container_port: int | None = None
    command: list[str] = field(default_factory=list)
    env: dict[str, str] = field(default_factory=dict)
    restart_policy: str = "no"
    # Capabilities given back after dropping them all (only ones an admin approved for the deployment).
    cap_add: tuple[str, ...] = ()
    # A read-only root filesystem; /tmp and /run become small tmpfs mounts so programs still start.
    read_only: bool = False
    # The deployment's own network (created on demand); empty means Docker's default bridge.
    network: str = ""
    network_labels: dict[str, str] = field(default_factory=dict)
    # A cap on the container's writable layer, where the storage driver can enforce one.
    disk_limit_bytes: int | None = None


@dataclass(frozen=True)
class HostInfo:
    cpus: int
    memory_bytes: int
    containers_running: int
    server_version: str
    cgroup_version: str
    cgroup_driver: str
    docker_root_dir: str


@dataclass(frozen=True)
class EngineEvent:
    action: str
    container_id: str
    labels: dict[str, str]
    time_nano: int


_client: docker.DockerClient | None = None
_client_lock = threading.Lock()


def client() -> docker.DockerClient:
    """The shared SDK client, built on first use (``DOCKER_HOST`` or the local socket)."""
    global _client
    if _client is None:
        with _client_lock:
            if _client is None:
                with translate_errors():
                    kwargs: dict[str, Any] = {"timeout": settings.DOCKER_TIMEOUT_S, "max_pool_size": 32}
                    if settings.DOCKER_HOST:
                        _client = docker.DockerClient(base_url=settings.DOCKER_HOST, **kwargs)
                    else:
                        _client = docker.from_env(**kwargs)
    return _client


def reset_client() -> None:
    """Forget the client, e.g. after the engine restarted or settings changed."""
    global _client
    with _client_lock:
        if _client is not None:
            _client.close()
        _client = None


@contextmanager
def translate_errors() -> Iterator[None]:
    """Turn the SDK's and requests' exceptions into ours."""
    try:
        yield
    except docker.errors.ImageNotFound as exc:
        raise ImageNotFound(_explain(exc)) from exc
    except docker.errors.NotFound as exc:
        raise ContainerNotFound(_explain(exc)) from exc
    except docker.errors.BuildError as exc:
        raise EngineError(f"build failed: {exc.msg}") from exc
    except docker.errors.APIError as exc:
        if exc.status_code == 409:
            raise EngineConflict(_explain(exc)) from exc
        raise EngineError(_explain(exc)) from exc
    except (requests.exceptions.ConnectionError, requests.exceptions.Timeout) as exc:
        raise EngineUnavailable(f"the Docker engine does not answer: {exc.__class__.__name__}") from exc
    except docker.errors.DockerException as exc:
        raise EngineUnavailable(f"the Docker engine does not answer: {exc}") from exc


def _explain(exc: docker.errors.APIError) -> str:
    explanation = getattr(exc, "explanation", None)
    return str(explanation or exc)


def _parse_time(raw: str | None) -> datetime | None:
    if not raw or raw.startswith("0001-"):
        return None
    # Docker gives nanoseconds; Python takes microseconds.
    trimmed = re.sub(r"(\.\d{6})\d*", r"\1", raw.replace("Z", "+00:00"))
    try:
        return datetime.fromisoformat(trimmed)
    except ValueError:
        return None


# --- engine ---------------------------------------------------------------------


def ping(timeout: float | None = None) -> None:
    """Raise :class:`EngineUnavailable` unless the engine answers (within ``timeout`` seconds if given)."""
    with translate_errors():
        if timeout is None:
            client().ping()
        else:
            api = client().api
            api._result(api._get(api._url("/_ping"), timeout=timeout))


def host_info() -> HostInfo:
    with translate_errors():
        info = client().info()
    return HostInfo(
        cpus=int(info.get("NCPU", 0)),
        memory_bytes=int(info.get("MemTotal", 0)),
        containers_running=int(info.get("ContainersRunning", 0)),
        server_version=str(info.get("ServerVersion", "")),
        cgroup_version=str(info.get("CgroupVersion", "")),
        cgroup_driver=str(info.get("CgroupDriver", "")),
        docker_root_dir=str(info.get("DockerRootDir", "")),
    )


# --- images ---------------------------------------------------------------------


def _image_info(attrs: dict[str, Any]) -> ImageInfo:
    created = attrs.get("Created")
    if isinstance(created, int | float):
        created_at: datetime | None = datetime.fromtimestamp(created, tz=UTC)
    else:
        created_at = _parse_time(created)
    return ImageInfo(
        id=str(attrs.get("Id", "")),
        references=tuple(t for t in (attrs.get("RepoTags") or []) if t != "<none>:<none>"),
        size_bytes=int(attrs.get("Size", 0)),
        created_at=created_at,
        labels=dict((attrs.get("Config") or {}).get("Labels") or {}),
    )


def list_images() -> list[ImageInfo]:
    """Every tagged image on the engine (one API call)."""
    with translate_errors():
        raw = client().api.images()
    return [info for info in map(_image_info, raw) if info.references]


def inspect_image(reference: str) -> ImageInfo:
    with translate_errors():
        return _image_info(client().api.inspect_image(reference))


_LOADED = re.compile(r"^Loaded image: (\S+)$")


def load_image(path: Path) -> list[str]:
    """``docker load`` a tar from disk, streamed; returns the references it brought.

    They are read from the engine's "Loaded image: name:tag" lines: asking the loaded images for
    their tags would also return older tags of the same image id, which the archive never held.
    """
    try:
        with path.open("rb") as fh, translate_errors():
            chunks = list(client().api.load_image(fh))
    except EngineUnavailable:
        raise
    except EngineError as exc:
        raise InvalidImageArchive(f"not a docker image archive: {exc}") from exc
    for chunk in chunks:
        # The engine reports a bad archive inside the stream (errorDetail), or as a plain error body.
        error = (chunk.get("errorDetail") or {}).get("message") or chunk.get("error") or chunk.get("message")
        if error:
            raise InvalidImageArchive(f"not a docker image archive: {error}")
    references = [
        match.group(1).strip() for chunk in chunks if (match := _LOADED.match(str(chunk.get("stream", "")).strip()))
    ]
    if not references:
        raise InvalidImageArchive("the archive holds no tagged image (save it with `docker save name:tag`)")
    return references


def pull_image(reference: str, username: str = "", password: str = "") -> ImageInfo:
    """Pull ``reference``; credentials are passed to the registry and never stored."""
    repository, tag = split_reference(reference)
    auth = {"username": username, "password": password} if username else None
    try:
        with translate_errors():
            client().images.pull(repository, tag=tag, auth_config=auth)
    except (ImageNotFound, ContainerNotFound) as exc:
        raise ImageNotFound(f"{reference} was not found in its registry") from exc
    except EngineUnavailable:
        raise
    except EngineError as exc:
        raise PullFailed(f"pulling {reference} failed: {exc}") from exc
    return inspect_image(reference)


def tag_image(image_id: str, reference: str) -> None:
    """Point ``reference`` (name:tag) at ``image_id``."""
    repository, tag = split_reference(reference)
    with translate_errors():
        client().api.tag(image_id, repository, tag=tag, force=True)


def remove_image(reference: str) -> None:
    with translate_errors():
        client().images.remove(reference)


def build_image(context_dir: Path, tag: str, labels: dict[str, str] | None = None) -> ImageInfo:
    with translate_errors():
        client().images.build(path=str(context_dir), tag=tag, rm=True, forcerm=True, labels=labels or {})
    return inspect_image(tag)


def split_reference(reference: str) -> tuple[str, str]:
    """``registry:5000/team/app:1.2`` -> (``registry:5000/team/app``, ``1.2``); the tag defaults to latest."""
    if "@" in reference:
        repository, digest = reference.split("@", 1)
        return repository, digest
    last = reference.rsplit("/", 1)[-1]
    if ":" in last:
        repository, tag = reference.rsplit(":", 1)
        return repository, tag
    return reference, "latest"


# --- containers -----------------------------------------------------------------

_EXIT_CODE = re.compile(r"Exited \((-?\d+)\)")


def _summary(raw: dict[str, Any]) -> ContainerInfo:
    host_port = None
    for port in raw.get("Ports") or []:
        if port.get("PublicPort"):
            host_port = int(port["PublicPort"])
            break
    match = _EXIT_CODE.search(raw.get("Status", ""))
    names = raw.get("Names") or ["/"]
    return ContainerInfo(
        id=raw["Id"],
        name=names[0].lstrip("/"),
        labels=raw.get("Labels") or {},
        state=raw.get("State", ""),
        host_port=host_port,
        exit_code=int(match.group(1)) if match else None,
        image_id=raw.get("ImageID", ""),
    )


def list_containers(labels: dict[str, str]) -> list[ContainerInfo]:
    """All containers (running or not) carrying every one of ``labels``; one API call."""
    filters = {"label": [f"{key}={value}" for key, value in labels.items()]}
    with translate_errors():
        raw = client().api.containers(all=True, filters=filters)
    return [_summary(item) for item in raw]


def inspect_container(container_id: str) -> ContainerDetail:
    with translate_errors():
        attrs = client().api.inspect_container(container_id)
    state = attrs.get("State") or {}
    config = attrs.get("Config") or {}
    host_config = attrs.get("HostConfig") or {}
    ports = (attrs.get("NetworkSettings") or {}).get("Ports") or {}
    host_port = None
    for bindings in ports.values():
        for binding in bindings or []:
            if binding.get("HostPort"):
                host_port = int(binding["HostPort"])
                break
        if host_port:
            break
    exit_code = state.get("ExitCode")
    info = ContainerInfo(
        id=attrs["Id"],
        name=str(attrs.get("Name", "")).lstrip("/"),
        labels=config.get("Labels") or {},
        state=str(state.get("Status", "")),
        host_port=host_port,
        exit_code=None if state.get("Running") else exit_code,
        image_id=str(attrs.get("Image", "")),
    )
    nano_cpus = host_config.get("NanoCpus") or 0
    if not nano_cpus and (host_config.get("CpuQuota") or 0) > 0 and host_config.get("CpuPeriod"):
        # Set after the start by run_container (CFS quota and period rather than NanoCpus); 0 or -1: none.
        nano_cpus = int(host_config["CpuQuota"] * 1e9 / host_config["CpuPeriod"])
    return ContainerDetail(
        info=info,
        started_at=_parse_time(state.get("StartedAt")),
        finished_at=_parse_time(state.get("FinishedAt")),
        restart_count=int(attrs.get("RestartCount") or 0),
        oom_killed=bool(state.get("OOMKilled")),
        image_reference=str(config.get("Image", "")),
        cpu_limit=nano_cpus / 1e9 if nano_cpus else None,
        memory_limit_bytes=host_config.get("Memory") or None,
        ports=ports,
        health_status=(state.get("Health") or {}).get("Status") or None,
        health_failing_streak=int((state.get("Health") or {}).get("FailingStreak") or 0),
        networks=tuple(sorted(((attrs.get("NetworkSettings") or {}).get("Networks") or {}).keys())),
    )


# Docker's json-file logs grow without bound by default: a chatty container could fill the host's disk.
LOG_CONFIG = {"type": "json-file", "config": {"max-size": "10m", "max-file": "3"}}
TMPFS_OPTIONS = "rw,nosuid,nodev,noexec,size=64m"


def run_container(spec: ContainerSpec) -> ContainerDetail:
    """Create and start a container; its port is published on 127.0.0.1 on a free host port.

    Locked down whatever the image asks for: every capability dropped (``cap_add`` gives back the
    approved ones), no new privileges, unprivileged, a pids limit, bounded logs, its anonymous volumes
    removed with it, and attached only to its deployment's network. Uses the low-level API: create,
    start, limit the CPU, inspect — the fewest round trips the engine allows.

    The memory limit is set at creation, the CPU limit right after the start (:func:`limit_cpu`): the
    runtime's own setup of the container runs inside the container's cgroup, and under a small CFS
    quota it is throttled, 1 ms of CPU per 100 ms period at 0.01 CPU, so a start took ~1.4 s instead of
    ~0.2 s on a 2-core machine (docker 20.10, cgroup v1). A container whose limit cannot be
    set is removed: none runs without its limit.
    """
    api = client().api
    restart: dict[str, Any] | None = None
    if spec.restart_policy != "no":
        restart = {"Name": spec.restart_policy}
        if spec.restart_policy == "on-failure":
            restart["MaximumRetryCount"] = 3
    if spec.network:
        ensure_network(spec.network, spec.network_labels)
    storage_opt = None
    if spec.disk_limit_bytes and disk_limit_supported():
        storage_opt = {"size": str(spec.disk_limit_bytes)}
    with translate_errors():
        host_config = api.create_host_config(
            mem_limit=spec.memory_limit_bytes,
            memswap_limit=spec.memory_limit_bytes,
            port_bindings={f"{spec.container_port}/tcp": ("127.0.0.1", "")} if spec.container_port else None,
            restart_policy=restart,
            privileged=False,
            # A tiny init as PID 1 passes SIGTERM on: a server that is PID 1 itself ignores it, so every
            # graceful stop would wait out its whole grace period before the SIGKILL.
            init=True,
            cap_drop=["ALL"],
            cap_add=list(spec.cap_add) or None,
            security_opt=["no-new-privileges:true"],
            pids_limit=512,
            read_only=spec.read_only,
            tmpfs={"/tmp": TMPFS_OPTIONS, "/run": TMPFS_OPTIONS} if spec.read_only else None,
            log_config=LOG_CONFIG,
            storage_opt=storage_opt,
            network_mode=spec.network or None,
        )
    created = _create(spec, host_config)
    try:
        with translate_errors():
            api.start(created["Id"])
    except ContainerNotFound as exc:
        # The engine checks the network at the start. One this process knew was removed meanwhile (another
        # process's sweep): make it again, and the container with it.
        with contextlib.suppress(EngineError):
            remove_container(created["Id"])
        if not spec.network or "network" not in str(exc):
            raise
        _forget_network(spec.network)
        ensure_network(spec.network, spec.network_labels)
        created = _create(spec, host_config)
        with translate_errors():
            api.start(created["Id"])
    try:
        limit_cpu(created["Id"], spec.cpu_limit)
    except EngineError:
        with contextlib.suppress(EngineError):
            remove_container(created["Id"])
        raise
    return inspect_container(created["Id"])


def _create(spec: ContainerSpec, host_config: dict[str, Any]) -> dict[str, Any]:
    with translate_errors():
        created: dict[str, Any] = client().api.create_container(
            spec.image,
            command=spec.command or None,
            name=spec.name,
            labels={**spec.labels, LABEL_SEED_MANAGED_BY: MANAGED_BY},
            environment=spec.env,
            ports=[spec.container_port] if spec.container_port else None,
            host_config=host_config,
        )
    return created


CPU_PERIOD_US = 100_000  # the CFS default; 0.01 CPU is then the smallest quota the kernel takes (1 ms)


def limit_cpu(container_id: str, cpus: float) -> None:
    """Hold the container to ``cpus`` cores from now on (a CFS quota per 100 ms period; kept across restarts)."""
    with translate_errors():
        client().api.update_container(
            container_id, cpu_period=CPU_PERIOD_US, cpu_quota=max(1000, round(cpus * CPU_PERIOD_US))
        )


def ensure_cpu_limit(container_id: str, cpus: float) -> bool:
    """Hold the container to ``cpus`` cores if it runs without any CPU limit; True if it had none.

    :func:`run_container` sets the limit right after the start: a process killed in between leaves a
    container without one, which the reconciler adopts and passes here (one inspect, an update only then).
    """
    if inspect_container(container_id).cpu_limit is not None:
        return False
    limit_cpu(container_id, cpus)
    return True


_disk_limit: dict[str, bool] = {}


def disk_limit_supported() -> bool:
    """Whether the storage driver enforces a per-container size (``--storage-opt size``): overlay2 only on
    xfs mounted with project quotas, and btrfs, zfs, devicemapper. Asked once per process."""
    if "supported" not in _disk_limit:
        with translate_errors():
            info = client().info()
        driver = str(info.get("Driver", ""))
        backing = dict(info.get("DriverStatus") or []).get("Backing Filesystem", "")
        _disk_limit["supported"] = driver in ("btrfs", "zfs", "devicemapper") or (
            driver == "overlay2" and backing == "xfs"
        )
    return _disk_limit["supported"]


# --- networks -------------------------------------------------------------------


_network_lock = threading.Lock()
# The deployment networks this process has seen exist: a replacement's start then asks nothing about its
# network (one engine call fewer, and no lock shared by a converge's parallel creates).
_networks_known: set[str] = set()


def ensure_network(name: str, labels: dict[str, str]) -> None:
    """The bridge network ``name``, created with ``labels`` unless it exists. Docker isolates bridge
    networks from each other, so containers on it reach only each other (and the outside).

    The engine does not refuse a second network of the same name, so creation is serialised here
    (a converge starts containers in parallel threads; other processes are kept out by the
    deployment's lock).
    """
    if name in _networks_known:
        return
    with _network_lock, translate_errors():
        # The engine's name filter matches substrings: compare exactly.
        if not any(n.get("Name") == name for n in client().api.networks(names=[name])):
            client().api.create_network(name, driver="bridge", labels=labels, check_duplicate=True)
        _networks_known.add(name)


def _forget_network(name: str) -> None:
    with _network_lock:
        _networks_known.discard(name)


def list_networks(labels: dict[str, str]) -> list[str]:
    """Names of the networks carrying every one of ``labels``."""
    filters = {"label": [f"{key}={value}" for key, value in labels.items()]}
    with translate_errors():
        return [str(n.get("Name", "")) for n in client().api.networks(filters=filters)]


def remove_network(name: str) -> None:
    """Remove the network(s) named ``name``; none is not an error. One still in use (a container being
    removed) is refused by the engine (:class:`EngineError`): the orphan sweep tries again."""
    _forget_network(name)
    with translate_errors():
        for network in client().api.networks(names=[name]):
            if network.get("Name") == name:
                try:
                    client().api.remove_network(network["Id"])
                except docker.errors.NotFound:
                    pass


def remove_container(container_id: str, *, grace_s: float = 0) -> None:
    """Force-remove a container; one that is already gone is not an error.

    With ``grace_s`` it is stopped first: SIGTERM, then SIGKILL once ``grace_s`` seconds have passed.
    """
    if grace_s > 0:
        try:
            with translate_errors():
                client().api.stop(container_id, timeout=max(1, round(grace_s)))
        except EngineUnavailable:
            raise
        except EngineError:
            pass  # gone, or not stoppable: the forced removal below settles it
    try:
        with translate_errors():
            # v=True: the image's anonymous volumes go with it instead of piling up on the host.
            client().api.remove_container(container_id, force=True, v=True)
    except ContainerNotFound:
        pass
    except EngineConflict as exc:
        # "removal already in progress" means someone else is removing it: the outcome we want.
        if "in progress" not in str(exc):
            raise


# What the engine says when asked to restart a container that is going away: a conflict, not a failure.
_BEING_REMOVED = ("marked for removal", "removal in progress", "is dead", "no such container")


def restart_container(container_id: str) -> None:
    """Restart; :class:`EngineConflict` if the container is being removed (the engine answers 500 then)."""
    try:
        with translate_errors():
            client().api.restart(container_id, timeout=5)
    except EngineUnavailable:
        raise
    except (ContainerNotFound, EngineConflict):
        raise
    except EngineError as exc:
        if any(phrase in str(exc).lower() for phrase in _BEING_REMOVED):
            raise EngineConflict(f"the container is being removed: {exc}") from exc
        raise


def container_stats(container_id: str) -> dict[str, Any]:
    """One reading of the engine's stats API (the JSON ``docker stats`` reads), without streaming.

    ``one-shot`` (API 1.41+) answers at once instead of waiting a second for a second sample: the
    caller keeps its own previous reading to compute rates.
    """
    api = client().api
    one_shot = None if docker.utils.version_lt(api.api_version, "1.41") else True
    with translate_errors():
        return dict(api.stats(container_id, stream=False, one_shot=one_shot))


def container_logs(container_id: str, tail: int = 200, max_bytes: int | None = None) -> str:
    """The last ``tail`` lines of the container's output, and never more than ``max_bytes`` of them.

    A line count alone bounds nothing: one container printing megabyte lines would have every log
    request hold its whole tail in memory. The output is read as a stream and only its last
    ``max_bytes`` (``LOG_TAIL_MAX_BYTES``) kept; when that cut something, the first (partial) line
    kept is replaced by a note saying so.
    """
    limit = max_bytes or settings.LOG_TAIL_MAX_BYTES
    kept = bytearray()
    cut = False
    with translate_errors():
        for chunk in client().api.logs(container_id, tail=tail, timestamps=False, stream=True, follow=False):
            kept += chunk
            if len(kept) > 2 * limit:  # trim now and then, not on every chunk
                del kept[: len(kept) - limit]
                cut = True
    if len(kept) > limit:
        del kept[: len(kept) - limit]
        cut = True
    if cut:
        newline = kept.find(b"\n")
        del kept[: newline + 1 if newline >= 0 else len(kept)]
        kept[:0] = f"[earlier output cut: the log tail is capped at {limit} bytes]\n".encode()
    return kept.decode("utf-8", errors="replace")


def events(labels: dict[str, str], actions: list[str]) -> Iterator[EngineEvent]:
    """Follow the engine's event stream for matching containers; blocks, ends if the engine goes away."""
    filters = {
        "type": ["container"],
        "label": [f"{key}={value}" for key, value in labels.items()],
        "event": actions,
    }
    with translate_errors():
        stream = client().events(decode=True, filters=filters)
        for raw in stream:
            actor = raw.get("Actor") or {}
            yield EngineEvent(
                action=str(raw.get("Action", raw.get("status", ""))),
                container_id=str(actor.get("ID", raw.get("id", ""))),
                labels=actor.get("Attributes") or {},
                time_nano=int(raw.get("timeNano", 0)),
            )
