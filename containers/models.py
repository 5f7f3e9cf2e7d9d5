"""Images, deployments (desired state), the containers that realise them, and the event log."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone

from orchestrator_site.encryption import EncryptedJSONField
from tenancy.models import Organization, default_organization_id, keep_parent_organization, parent_organization_id


class Image(models.Model):
    """A Docker image the orchestrator knows by reference (``name:tag``)."""

    class Source(models.TextChoices):
        UPLOAD = "upload"
        PULL = "pull"
        BUILD = "build"
        ENGINE = "engine"

    reference = models.CharField(max_length=255, unique=True)
    docker_id = models.CharField(max_length=80, blank=True)
    size_bytes = models.BigIntegerField(default=0)
    image_created_at = models.DateTimeField(null=True, blank=True)
    source = models.CharField(max_length=10, choices=Source.choices, default=Source.ENGINE)
    added_at = models.DateTimeField(auto_now_add=True)
    # Who uploaded or pulled it; empty for a shared image (the demo image), which every member can
    # read and deploy but only staff can delete. A reference is one tag on the one engine, so it
    # has one owner: another organization can't upload or pull the same reference.
    organization = models.ForeignKey(
        Organization, null=True, blank=True, on_delete=models.CASCADE, related_name="images"
    )

    tenancy_path = "organization"
    tenancy_shared = True

    class Meta:
        ordering = ["reference"]

    def __str__(self) -> str:
        return self.reference


class Deployment(models.Model):
    """Desired state: run ``replicas`` containers of ``image`` with these limits and settings."""

    class State(models.TextChoices):
        RUNNING = "running"
        CONVERGING = "converging"
        BACKOFF = "backoff", "crash-loop backoff"
        STOPPED = "stopped"

    class RolloutPhase(models.TextChoices):
        PROGRESSING = "progressing"
        COMPLETE = "complete"
        FAILED = "failed"
        ROLLING_BACK = "rolling_back", "rolling back"
        ROLLED_BACK = "rolled_back", "rolled back"

    class RestartPolicy(models.TextChoices):
        # The reconciler replaces dead containers itself; Docker's own policy is an extra layer.
        NO = "no"
        ON_FAILURE = "on-failure"
        ALWAYS = "always"
        UNLESS_STOPPED = "unless-stopped"

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="deployments", default=default_organization_id
    )
    # Unique within its organization: two customers can both have a "web".
    name = models.SlugField(max_length=63)
    image = models.ForeignKey(Image, on_delete=models.PROTECT, related_name="deployments")
    replicas = models.PositiveIntegerField(default=1, validators=[MaxValueValidator(10_000)])
    cpu_limit = models.DecimalField(
        max_digits=6, decimal_places=3, default=Decimal("0.5"), validators=[MinValueValidator(Decimal("0.01"))]
    )
    memory_limit_bytes = models.BigIntegerField()
    container_port = models.PositiveIntegerField(null=True, blank=True, validators=[MaxValueValidator(65535)])
    command = models.JSONField(default=list, blank=True)
    # Secrets (API keys, passwords) live here: encrypted at rest, write-only in the API, never in the admin.
    env = EncryptedJSONField(default=dict, blank=True)
    restart_policy = models.CharField(max_length=16, choices=RestartPolicy.choices, default=RestartPolicy.NO)
    # Containers drop every capability; these are asked back (containers.deployments.ALLOWED_CAPABILITIES)
    # and get them only once an admin approved them (``capabilities_approved``, kept until they change).
    capabilities = models.JSONField(default=list, blank=True)
    capabilities_approved = models.JSONField(default=list, blank=True)
    read_only_root = models.BooleanField(default=False, help_text="Run with a read-only root filesystem")
    # Bumped whenever the container spec changes; containers of an older generation are replaced.
    generation = models.PositiveIntegerField(default=1)
    # The image id this generation's containers run, pinned by its first container: a tag that moves
    # later (an upload, a pull) changes nothing until someone rolls out a new generation.
    image_docker_id = models.CharField(max_length=80, blank=True)
    state = models.CharField(max_length=12, choices=State.choices, default=State.CONVERGING)
    # Rolling update strategy (containers.rollouts): how a new generation replaces the old one.
    max_surge = models.PositiveIntegerField(default=1, help_text="Containers above replicas during a rollout")
    max_unavailable = models.PositiveIntegerField(
        default=0, help_text="Ready containers below replicas allowed during a rollout"
    )
    min_ready_seconds = models.PositiveIntegerField(default=0, help_text="Seconds a new container stays ready first")
    progress_deadline_s = models.PositiveIntegerField(default=120, help_text="A rollout not done by then fails")
    drain_timeout_s = models.FloatField(default=10.0, help_text="Longest wait for a drained container's sessions")
    stop_grace_s = models.PositiveIntegerField(default=10, help_text="Seconds between SIGTERM and SIGKILL")
    auto_rollback = models.BooleanField(default=True, help_text="A failed rollout returns to the last good revision")
    paused = models.BooleanField(default=False)
    rollout_phase = models.CharField(max_length=16, choices=RolloutPhase.choices, default=RolloutPhase.COMPLETE)
    rollout_started_at = models.DateTimeField(null=True, blank=True)
    rollout_message = models.TextField(blank=True)
    crash_count = models.PositiveIntegerField(default=0)
    backoff_until = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    tenancy_path = "organization"

    class Meta:
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["organization", "name"], name="deployment_name_per_org")]

    def __str__(self) -> str:
        return self.name

    def in_backoff(self, now: Any = None) -> bool:
        return self.backoff_until is not None and self.backoff_until > (now or timezone.now())

    def spec(self) -> dict[str, Any]:
        """What an Event records as before/after for a change of desired state."""
        return {
            "image": self.image.reference,
            "replicas": self.replicas,
            "cpu_limit": str(self.cpu_limit),
            "memory_limit_bytes": self.memory_limit_bytes,
            "container_port": self.container_port,
            "command": self.command,
            "env_keys": sorted(self.env),
            "restart_policy": self.restart_policy,
            "capabilities": list(self.capabilities),
            "capabilities_approved": list(self.capabilities_approved),
            "read_only_root": self.read_only_root,
            "generation": self.generation,
            "image_docker_id": self.image_docker_id,
        }

    def granted_capabilities(self) -> list[str]:
        """The capabilities its containers get: asked for and approved."""
        return sorted(set(self.capabilities) & set(self.capabilities_approved))

    def network_name(self) -> str:
        """The deployment's own Docker network (one per orchestrator instance and deployment)."""
        return f"orch-{settings.ORCHESTRATOR_INSTANCE}-d{self.pk}"


class Container(models.Model):
    """One Docker container run by a deployment, mirrored from the engine by the reconciler."""

    class Status(models.TextChoices):
        CREATED = "created"
        RUNNING = "running"
        RESTARTING = "restarting"
        EXITED = "exited"
        DEAD = "dead"
        PAUSED = "paused"
        REMOVING = "removing"

    deployment = models.ForeignKey(Deployment, on_delete=models.CASCADE, related_name="containers")
    # Its deployment's organization, kept on the row (set by save() from the deployment, which never changes
    # owner): the scope and the console's counts by status read it from an index instead of joining every
    # container to its deployment (the dashboard's count over 5,000 containers: 1.0 -> 0.25 ms).
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="containers")
    docker_id = models.CharField(max_length=80, unique=True)
    name = models.CharField(max_length=128)
    generation = models.PositiveIntegerField(default=1)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.CREATED)
    host_port = models.PositiveIntegerField(null=True, blank=True)
    exit_code = models.IntegerField(null=True, blank=True)
    # The replica slot it fills (ReplicaSlot.number): a replacement takes the slot of the container that
    # died, so the restarts of one replica add up across the containers that filled it.
    slot = models.PositiveIntegerField(null=True, blank=True)
    # Its slot's restarts (ReplicaSlot.restarts) when reconcile started it; a slot's count only changes
    # when its container dies, so this is the slot's count for as long as the container lives.
    restart_count = models.PositiveIntegerField(default=0)
    started_at = models.DateTimeField(null=True, blank=True)
    # When it first answered its readiness check (containers.rollouts.ready): it takes traffic from then on.
    ready_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    tenancy_path = "organization"

    class Meta:
        ordering = ["deployment_id", "created_at"]
        indexes = [
            models.Index(fields=["status"]),
            models.Index(fields=["organization", "status"], name="container_org_status"),
        ]

    def __str__(self) -> str:
        return self.name

    def save(self, *args: Any, **kwargs: Any) -> None:
        # Always its deployment's organization: a bulk_create must pass it (the column is NOT NULL, so one that
        # does not fails instead of leaving a container no member can see).
        keep_parent_organization(self, "deployment")
        super().save(*args, **kwargs)

    @property
    def short_id(self) -> str:
        return self.docker_id[:12]


class ReplicaSlot(models.Model):
    """One replica position of a deployment (numbered from 1) and how often its container died and was
    replaced. The count outlives the containers: it keeps counting through a crash loop's backoff, while
    no container fills the slot, and a slot given up by a scale-down keeps its count if it is filled again.
    """

    deployment = models.ForeignKey(Deployment, on_delete=models.CASCADE, related_name="slots")
    number = models.PositiveIntegerField()
    restarts = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["deployment_id", "number"]
        constraints = [models.UniqueConstraint(fields=["deployment", "number"], name="replica_slot_unique")]

    def __str__(self) -> str:
        return f"{self.deployment_id}#{self.number}"


class Revision(models.Model):
    """One generation's container template (image id, limits, command, env...), kept for history and rollback.

    ``number`` is the deployment's generation it was made for; the last ``REVISION_HISTORY`` are kept.
    """

    deployment = models.ForeignKey(Deployment, on_delete=models.CASCADE, related_name="revisions")
    number = models.PositiveIntegerField()
    # Holds the env: encrypted at rest like the deployment's own.
    template = EncryptedJSONField(default=dict)
    changed = models.JSONField(default=list, blank=True)
    reason = models.CharField(max_length=255, blank=True)
    actor = models.CharField(max_length=150, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    # Set once every replica of it was ready: a "good" revision an automatic rollback may return to.
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["deployment_id", "-number"]
        constraints = [models.UniqueConstraint(fields=["deployment", "number"], name="revision_unique_number")]

    def __str__(self) -> str:
        return f"{self.deployment_id} revision {self.number}"


class Event(models.Model):
    """Append-only log of every change and every refused request: who, what, before and after."""

    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    actor = models.CharField(max_length=150)
    kind = models.CharField(max_length=64, db_index=True)
    message = models.TextField(blank=True)
    deployment = models.ForeignKey(Deployment, null=True, blank=True, on_delete=models.SET_NULL, related_name="events")
    # Kept as text, not a foreign key, so the event outlives the container row.
    container_docker_id = models.CharField(max_length=80, blank=True, db_index=True)
    before = models.JSONField(null=True, blank=True)
    after = models.JSONField(null=True, blank=True)
    # Whose event it is: its deployment's organization, else the default one; empty (seen by staff only)
    # for what concerns no organization, such as a failed login.
    organization = models.ForeignKey(
        Organization,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="events",
        default=default_organization_id,
    )

    tenancy_path = "organization"

    class Meta:
        ordering = ["-created_at", "-id"]
        # The event list and the dashboard read an organization's latest events: with this index the database
        # reads the first page off it instead of sorting every event of the organization (50 ms at 50,000).
        indexes = [models.Index(fields=["organization", "-created_at", "-id"], name="event_org_latest")]

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M:%S} {self.kind}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None and not kwargs.get("force_insert"):
            raise ValueError("events are append-only")
        if self.deployment_id is not None:
            # A deployment's event is always its organization's (record() passes it; this covers direct creates).
            self.organization_id = parent_organization_id(self, "deployment")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> Any:
        raise ValueError("events are append-only")


_DEFAULT = object()


def record(
    kind: str,
    *,
    actor: str,
    message: str = "",
    deployment: Deployment | None = None,
    container_docker_id: str = "",
    before: Any = None,
    after: Any = None,
    organization_id: Any = _DEFAULT,
) -> Event:
    """Append one event to the log: the deployment's organization's, else ``organization_id``'s (None: no
    organization, for staff only), else the default organization's."""
    if deployment is not None:
        organization_id = deployment.organization_id
    elif organization_id is _DEFAULT:
        organization_id = default_organization_id()
    return Event.objects.create(
        organization_id=organization_id,
        kind=kind,
        actor=actor,
        message=message,
        deployment=deployment,
        container_docker_id=container_docker_id,
        before=before,
        after=after,
    )


def actor_name(user: Any) -> str:
    """How a request's user appears in the event log."""
    if user is None or not getattr(user, "is_authenticated", False):
        return "anonymous"
    return str(user.get_username())
