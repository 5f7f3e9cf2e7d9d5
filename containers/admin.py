"""Django admin for images, deployments, containers and the event log.

The admin edits rows directly: it is for inspecting data and repairing it, not for operating
the orchestrator. Changes of desired state belong in the console or the API, which go through
``containers.deployments`` (validation, admission, an event, a reconcile).
"""

from __future__ import annotations

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest

from containers import deployments
from containers.models import Container, Deployment, Event, Image, actor_name
from orchestrator_site.units import format_memory


def _human_size(size: int) -> str:
    for unit, factor in (("GiB", 1024**3), ("MiB", 1024**2), ("KiB", 1024)):
        if size >= factor:
            return f"{size / factor:.1f} {unit}"
    return f"{size} B"


@admin.register(Image)
class ImageAdmin(admin.ModelAdmin):
    list_display = ("reference", "source", "size", "short_docker_id", "image_created_at", "added_at")
    list_filter = ("source",)
    search_fields = ("reference", "^docker_id")
    date_hierarchy = "added_at"
    readonly_fields = ("added_at",)

    @admin.display(description="size", ordering="size_bytes")
    def size(self, obj: Image) -> str:
        return _human_size(obj.size_bytes)

    @admin.display(description="docker id", ordering="docker_id")
    def short_docker_id(self, obj: Image) -> str:
        return obj.docker_id.removeprefix("sha256:")[:12]


class ContainerInline(admin.TabularInline):
    """The deployment's containers, read-only: they mirror the engine and the reconciler owns them."""

    model = Container
    fields = ("name", "docker_id", "status", "generation", "slot", "host_port", "restart_count", "started_at")
    readonly_fields = fields
    extra = 0
    show_change_link = True
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(Deployment)
class DeploymentAdmin(admin.ModelAdmin):
    """Raw data edits of desired state.

    Saving here changes the row and nothing else: no validation of admission, no event in
    the log, no generation bump (so changed limits, command or env do not recreate running
    containers), and no immediate reconcile (the next periodic tick picks up a new replica
    count). Deleting a deployment here leaves its containers to the orphan sweep. To change
    desired state properly use the console or the API, which call ``containers.deployments``.
    The reconciler's bookkeeping (generation, state, crash count, backoff) is read-only here.
    """

    list_display = (
        "name",
        "organization",
        "image",
        "replicas",
        "cpu_limit",
        "memory",
        "container_port",
        "state",
        "crash_count",
        "generation",
        "updated_at",
    )
    list_select_related = ("image", "organization")
    list_filter = ("state", "restart_policy", "organization")
    search_fields = ("name", "image__reference")
    date_hierarchy = "created_at"
    autocomplete_fields = ("image",)
    readonly_fields = (
        # Moving a deployment between organizations would move its containers' network too: not a raw edit.
        "organization",
        "env_names",
        "capabilities_approved",
        "image_docker_id",
        "generation",
        "state",
        "crash_count",
        "backoff_until",
        "last_error",
        "created_at",
        "updated_at",
        # The rolling strategy and the rollout's state change through the API and console only.
        "max_surge",
        "max_unavailable",
        "min_ready_seconds",
        "progress_deadline_s",
        "drain_timeout_s",
        "stop_grace_s",
        "auto_rollback",
        "paused",
        "rollout_phase",
        "rollout_started_at",
        "rollout_message",
    )
    inlines = (ContainerInline,)
    # Env values are secrets: the admin neither shows nor edits them (only their names, read-only).
    exclude = ("env",)
    actions = ("approve_capabilities",)

    @admin.action(description="Approve the capabilities the selected deployments ask for (recreates them)")
    def approve_capabilities(self, request: HttpRequest, queryset: QuerySet[Deployment]) -> None:
        approved = []
        for deployment in queryset:
            if not deployment.capabilities:
                continue
            deployments.approve_capabilities(deployment, actor=actor_name(request.user), user=request.user)
            approved.append(deployment.name)
        self.message_user(request, f"approved for: {', '.join(approved) or 'none (nothing asked for)'}")

    @admin.display(description="env (names only)")
    def env_names(self, obj: Deployment) -> str:
        return ", ".join(sorted(obj.env)) or "-"

    @admin.display(description="memory", ordering="memory_limit_bytes")
    def memory(self, obj: Deployment) -> str:
        return format_memory(obj.memory_limit_bytes)


@admin.register(Container)
class ContainerAdmin(admin.ModelAdmin):
    """Containers as last observed on the engine; the reconciler overwrites what is edited here."""

    list_display = (
        "name",
        "short_id",
        "deployment",
        "status",
        "generation",
        "slot",
        "host_port",
        "exit_code",
        "restart_count",
        "started_at",
    )
    list_select_related = ("deployment",)
    list_filter = ("status", "deployment")
    search_fields = ("name", "^docker_id", "deployment__name")
    date_hierarchy = "created_at"
    autocomplete_fields = ("deployment",)
    # The organization is always the deployment's (Container.save sets it).
    readonly_fields = ("organization", "created_at", "updated_at")
    # Counting every row for "N total" is a full scan on a big table; the filtered count is enough.
    show_full_result_count = False

    @admin.display(description="id", ordering="docker_id")
    def short_id(self, obj: Container) -> str:
        return obj.short_id


@admin.register(Event)
class EventAdmin(admin.ModelAdmin):
    """The event log, read-only: events are append-only, so nobody adds, changes or deletes them here."""

    list_display = ("created_at", "kind", "actor", "deployment", "short_container_id", "short_message")
    list_select_related = ("deployment",)
    list_filter = ("kind",)
    search_fields = ("kind", "actor", "message", "^container_docker_id", "deployment__name")
    date_hierarchy = "created_at"
    raw_id_fields = ("deployment",)
    show_full_result_count = False
    fields = ("created_at", "kind", "actor", "deployment", "container_docker_id", "message", "before", "after")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Event | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Event | None = None) -> bool:
        return False

    @admin.display(description="container", ordering="container_docker_id")
    def short_container_id(self, obj: Event) -> str:
        return obj.container_docker_id[:12]

    @admin.display(description="message")
    def short_message(self, obj: Event) -> str:
        return obj.message if len(obj.message) <= 120 else obj.message[:119] + "…"
