"""Image actions: mirroring the engine's images into rows, upload, pull and delete.

One function per action, called by the API, the seed's paths and the console alike. Each writes
an Event; refusals go through ``containers.deployments.refuse`` so they are logged too.
Registry credentials pass straight through to the engine: they are never stored, logged or echoed.
"""

from __future__ import annotations

import logging
import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Prefetch, ProtectedError, Q

from containers import archives, engine, quotas
from containers.models import Deployment, Event, Image, record
from containers.refusals import Forbidden, InvalidInput, NotFound, QuotaRefused, Refused, refuse
from tenancy.errors import QuotaExceeded
from tenancy.models import Organization, default_organization

log = logging.getLogger(__name__)
SYNC_ACTOR = "engine-sync"

# Docker's reference grammar (github.com/distribution/reference), without digests:
# [domain[:port]/]path-component[/path-component...][:tag]
_ALNUM = r"[a-z0-9]+"
_PATH_COMPONENT = rf"{_ALNUM}(?:(?:[._]|__|-+){_ALNUM})*"
_DOMAIN_COMPONENT = r"(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])"
_DOMAIN = rf"(?:{_DOMAIN_COMPONENT}(?:\.{_DOMAIN_COMPONENT})*|\[[a-fA-F0-9:]+\])(?::[0-9]+)?"
_TAG = r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}"
REFERENCE = re.compile(
    rf"^(?:(?P<domain>{_DOMAIN})/)?(?P<path>{_PATH_COMPONENT}(?:/{_PATH_COMPONENT})*)(?::(?P<tag>{_TAG}))?$"
)
MAX_NAME_LENGTH = 255


class PullRefused(Refused):
    """The registry refused the pull (authentication, unknown registry, network)."""

    status = 422


# --- rows ------------------------------------------------------------------------------


def _copy_info(image: Image, info: engine.ImageInfo) -> bool:
    """Copy what the engine says about an image onto its row; True if anything changed."""
    values = {"docker_id": info.id, "size_bytes": info.size_bytes, "image_created_at": info.created_at}
    changed = any(getattr(image, key) != value for key, value in values.items())
    for key, value in values.items():
        setattr(image, key, value)
    return changed


def upsert(reference: str, info: engine.ImageInfo, source: str, organization: Organization | None = None) -> Image:
    """The row for ``reference`` (owned by ``organization``; None: shared, like the demo image), created or
    brought up to date; writes only when something changed."""
    image = Image.objects.filter(reference=reference).first()
    if image is None:
        image, _ = Image.objects.get_or_create(
            reference=reference, defaults={"source": source, "organization": organization}
        )
    changed = _copy_info(image, info) or image.source != source
    image.source = source
    if changed:
        image.save()
    return image


def sync_images() -> list[Image]:
    """Mirror the engine's tagged images into rows, so images loaded by hand show up too.

    Rows whose reference left the engine are removed unless a deployment still uses them.
    A constant number of queries however many images there are. Returns every row.
    """
    infos = {reference: info for info in engine.list_images() for reference in info.references}
    rows = {image.reference: image for image in Image.objects.all()}
    # Images loaded on the engine by hand belong to the default organization (the operator's), not to everyone.
    owner = default_organization() if set(infos) - set(rows) else None
    new: list[Image] = []
    changed: list[Image] = []
    for reference, info in infos.items():
        row = rows.get(reference)
        if row is None:
            row = Image(reference=reference, source=Image.Source.ENGINE, organization=owner)
            _copy_info(row, info)
            new.append(row)
        elif _copy_info(row, info):
            changed.append(row)
    vanished = [row.pk for reference, row in rows.items() if reference not in infos]
    if not (new or changed or vanished):
        # Nothing to write: no transaction either (on SQLite each one takes the write lock).
        return list(rows.values())
    with transaction.atomic():
        # Another process may sync at the same moment; the unique reference makes that harmless.
        Image.objects.bulk_create(new, ignore_conflicts=True)
        Image.objects.bulk_update(changed, ["docker_id", "size_bytes", "image_created_at"])
        gone = list(Image.objects.filter(pk__in=vanished, deployments__isnull=True).values_list("pk", "reference"))
        if gone:
            Image.objects.filter(pk__in=[pk for pk, _ in gone]).delete()
            Event.objects.bulk_create(
                Event(
                    kind="image.deleted",
                    actor=SYNC_ACTOR,
                    message=f"{reference} is no longer on the engine",
                    before={"reference": reference},
                )
                for _, reference in gone
            )
    return list(Image.objects.all())


# --- upload, pull, delete ---------------------------------------------------------------------


@dataclass
class Upload:
    """What an uploaded archive brought: every image in it, and those that were already present
    under the same reference with the same id (their origin is kept: re-uploading changes nothing)."""

    images: list[Image]
    already_present: list[Image]

    def summary(self) -> str:
        new = [image.reference for image in self.images if image not in self.already_present]
        parts = []
        if new:
            parts.append("Uploaded " + ", ".join(new) + ".")
        for image in self.already_present:
            parts.append(
                f"{image.reference} was already present (same id {image.docker_id.removeprefix('sha256:')[:12]}); "
                f"nothing changed (its origin stays “{image.source}”)."
            )
        return " ".join(parts)


def check_owner(reference: str, organization: Organization, *, actor: str, field: str, image_id: str = "") -> None:
    """Refuse (409) a reference another organization owns, or the shared demo image: loading or pulling
    it would change the image their deployments run (the very same image, by id, changes nothing)."""
    row = Image.objects.filter(reference=reference).values_list("organization_id", "docker_id").first()
    if row is not None and row[0] != organization.pk and not (image_id and image_id == row[1]):
        refuse(
            f"{reference} is an image name already in use outside your organization: tag yours differently",
            actor=actor,
            field=field,
            organization_id=organization.pk,
        )


def check_disk_quota(organization: Organization, extra_bytes: int, *, actor: str, field: str) -> None:
    """Refuse (409) adding ``extra_bytes`` of images beyond the organization's images' disk quota."""
    try:
        with transaction.atomic():
            quotas.check_image_bytes(organization.pk, extra_bytes)
    except QuotaExceeded as exc:
        quotas.refused(exc, actor=actor, organization_id=organization.pk, field=field)


def upload_image(
    path: Path, actor: str, *, replace: bool = False, user: Any = None, organization: Organization | None = None
) -> Upload:
    """``docker load`` an uploaded tar (``docker save`` output) and record the images it brought.

    Loading moves every tag the archive carries. An upload whose tags already name another image on
    the engine is refused (409) before anything is loaded: otherwise anyone could swap the image a
    deployment's tag points at. An administrator may ``replace`` on purpose; that is an event
    (``image.replaced``), and deployments keep running the image id their generation pinned until
    they are rolled out. Should the engine move a tag the manifest did not announce, it is put back.

    Checked before the engine stores anything too: the tags must not belong to another organization
    (even staff replacing on purpose), and the tar's size must fit the images' disk quota.
    """
    organization = organization or default_organization()
    try:
        claimed = archives.claimed_tags(path)
    except archives.UnreadableArchive as exc:
        message = f"not a docker image archive: {exc}"
        record(
            "request.refused", actor=actor, message=message, after={"field": "file"}, organization_id=organization.pk
        )
        raise engine.InvalidImageArchive(message) from None
    for reference, image_id in claimed.items():
        check_owner(reference, organization, actor=actor, field="file", image_id=image_id)
    check_disk_quota(organization, path.stat().st_size, actor=actor, field="file")
    if replace and not getattr(user, "is_staff", False):
        refuse("only an administrator may replace an image's tags", actor=actor, field="replace", exc=Forbidden)
    before = {tag: _current_id(tag) for tag in claimed}
    moved = {tag: (old, claimed[tag]) for tag, old in before.items() if old and old != claimed[tag]}
    if moved and not replace:
        _refuse_moves(moved, actor)
    try:
        references = engine.load_image(path)
    except engine.InvalidImageArchive as exc:
        record(
            "request.refused", actor=actor, message=str(exc), after={"field": "file"}, organization_id=organization.pk
        )
        raise
    infos = {reference: engine.inspect_image(reference) for reference in references}
    if not replace:
        # The manifest and what the engine did should agree; if a tag moved anyway, move it back.
        sneaked = {}
        for reference, info in infos.items():
            old = before.get(reference) if reference in before else _id_before(reference, before)
            if old and old != info.id:
                engine.tag_image(old, reference)
                sneaked[reference] = (old, info.id)
        if sneaked:
            _refuse_moves(sneaked, actor)
    known = {image.reference: image for image in Image.objects.filter(reference__in=references)}
    present = {ref for ref, info in infos.items() if ref in known and known[ref].docker_id == info.id}
    with transaction.atomic():
        images = [
            known[reference] if reference in present else upsert(reference, info, Image.Source.UPLOAD, organization)
            for reference, info in infos.items()
        ]
        record(
            "image.uploaded",
            organization_id=organization.pk,
            actor=actor,
            message=f"uploaded {', '.join(references)}"
            + (f" ({', '.join(sorted(present))} already present, unchanged)" if present else ""),
            after={
                "references": references,
                "docker_ids": sorted({info.id for info in infos.values()}),
                "already_present": sorted(present),
            },
        )
        for tag, (old, new) in moved.items():
            users = list(Deployment.objects.filter(image__reference=tag).values_list("name", flat=True))
            record(
                "image.replaced",
                organization_id=organization.pk,
                actor=actor,
                message=f"{actor} replaced {tag}: {old[:19]} -> {new[:19]}"
                + (f"; {', '.join(users)} keep running the old image until rolled out" if users else ""),
                before={"reference": tag, "docker_id": old},
                after={"reference": tag, "docker_id": new, "deployments": users},
            )
    return Upload(images=images, already_present=[image for image in images if image.reference in present])


def _current_id(reference: str) -> str | None:
    try:
        return engine.inspect_image(reference).id
    except engine.ImageNotFound:
        return None


def _id_before(reference: str, before: dict[str, str | None]) -> str | None:
    """A loaded reference the manifest named differently (``docker.io/library/x`` vs ``x``)."""
    familiar = re.sub(r"^(?:docker\.io|index\.docker\.io)/(?:library/)?", "", reference)
    return before.get(familiar)


def _refuse_moves(moved: dict[str, tuple[str, str]], actor: str) -> None:
    tags = ", ".join(f"{tag} (now {old[:19]}, the upload has {new[:19]})" for tag, (old, new) in moved.items())
    refuse(
        f"the upload would move tags that already name another image: {tags}. Upload it under a new tag, "
        "or have an administrator replace them (replace=true)",
        actor=actor,
        field="file",
    )


def check_reference(reference: str, *, actor: str) -> str:
    """The reference with its tag (``:latest`` when none); a malformed one is refused with 400."""
    problem = ""
    if not reference:
        problem = "an image reference is required, e.g. registry.example:5000/team/app:1.2"
    elif "@" in reference:
        problem = "pull by tag (name:tag), not by digest"
    elif not REFERENCE.match(reference):
        problem = (
            f"{reference!r} is not a valid image reference (lower-case name, optional registry "
            "host and :tag, e.g. registry.example:5000/team/app:1.2)"
        )
    elif len(reference.rsplit(":", 1)[0] if _has_tag(reference) else reference) > MAX_NAME_LENGTH:
        problem = f"image names are at most {MAX_NAME_LENGTH} characters"
    if problem:
        refuse(problem, actor=actor, field="reference", exc=InvalidInput)
    return reference if _has_tag(reference) else f"{reference}:latest"


def _has_tag(reference: str) -> bool:
    return ":" in reference.rsplit("/", 1)[-1]


def _stored_reference(reference: str, info: engine.ImageInfo) -> str:
    """How the engine lists a pulled reference: Docker Hub names lose ``docker.io/`` and ``library/``."""
    familiar = re.sub(r"^(?:docker\.io|index\.docker\.io)/", "", reference)
    familiar = re.sub(r"^library/(?=[^/]+$)", "", familiar)
    for candidate in (reference, familiar):
        if candidate in info.references:
            return candidate
    return familiar


def check_registry(reference: str, *, actor: str) -> None:
    """Refuse (403) a pull from a registry the operator did not allow (``IMAGE_PULL_REGISTRIES``; empty: any)."""
    allowed = [host.lower() for host in settings.IMAGE_PULL_REGISTRIES]
    registry = registry_of(reference).lower()
    if allowed and registry not in allowed and not (registry == "docker.io" and "index.docker.io" in allowed):
        refuse(
            f"pulls from {registry} are not allowed here (allowed: {', '.join(allowed)})",
            actor=actor,
            field="reference",
            exc=Forbidden,
        )


def pull_image(
    reference: str,
    username: str = "",
    password: str = "",
    *,
    actor: str,
    user: Any = None,
    organization: Organization | None = None,
) -> Image:
    """Pull ``reference`` from its registry, with credentials if given (used once, never kept).

    The registry must be allowed (``IMAGE_PULL_REGISTRIES``). A failed pull says only that it failed,
    except to staff: the engine's text can describe the host's network (which addresses answer,
    which refuse), and a pull must not serve as a port scanner. It is logged in full.

    The image's size is only known once pulled: one that passes the images' disk quota is removed
    again and refused.
    """
    organization = organization or default_organization()
    tagged = check_reference(reference.strip(), actor=actor)
    check_registry(tagged, actor=actor)
    check_owner(tagged, organization, actor=actor, field="reference")
    staff = bool(getattr(user, "is_staff", False))
    failure: tuple[str, str, type[Refused]] | None = None
    try:
        info = engine.pull_image(tagged, username, password)
    except engine.ImageNotFound as exc:
        failure = (pull_failure_words(tagged, "not found"), _scrub(str(exc), password), NotFound)
    except engine.PullFailed as exc:
        raw = _scrub(str(exc), password)
        log.warning("pull of %s by %s failed: %s", tagged, actor, raw)
        # The engine's answer says which addresses answer and which refuse: a pull must not serve
        # anyone but staff as a port scanner, so others get one sentence for every failure.
        words = pull_failure_words(tagged, raw) if staff else f"pulling {tagged} failed: {GENERIC_PULL_FAILURE}"
        failure = (words, raw, PullRefused)
    if failure is not None:
        # Refused outside the except block: the engine's exception (and its request) is not chained on.
        detail = failure[1] if staff else ""
        refuse(failure[0], actor=actor, field="reference", exc=failure[2], detail=detail)
    stored = _stored_reference(tagged, info)
    already = Image.objects.filter(reference=stored, organization=organization).first()
    try:
        check_disk_quota(
            organization, info.size_bytes - (already.size_bytes if already else 0), actor=actor, field="reference"
        )
    except QuotaRefused:
        if already is None:
            engine.remove_image(stored)
        raise
    with transaction.atomic():
        image = upsert(stored, info, Image.Source.PULL, organization)
        record(
            "image.pulled",
            organization_id=organization.pk,
            actor=actor,
            message=f"pulled {stored}",
            after={"reference": stored, "docker_id": info.id, "with_credentials": bool(username)},
        )
    return image


GENERIC_PULL_FAILURE = "the registry could not be reached or refused the request (an administrator sees why)"
# What a failed pull's engine message means, checked in this order (lowercased substrings).
_UNREACHABLE = ("connection refused", "no such host", "dial tcp", "i/o timeout", "timeout", "network is unreachable",
                "server gave http response to https client", "tls:", "x509", "connection reset", "eof")  # fmt: skip
_UNAUTHORIZED = ("unauthorized", "authentication required", "denied", "401", "403", "incorrect username or password")
_MISSING = ("not found", "manifest unknown", "does not exist", "name unknown", "404")


def pull_failure_words(reference: str, raw: str) -> str:
    """A failed pull in words (not reachable, not found, unauthorized); the raw text stays a detail."""
    registry = registry_of(reference)
    text = raw.lower()
    if any(marker in text for marker in _UNAUTHORIZED):
        return f"the registry {registry} refused access to {reference} (unauthorized): check the credentials"
    if any(marker in text for marker in _MISSING):
        return f"{reference} was not found in the registry {registry}: check the name and tag"
    if any(marker in text for marker in _UNREACHABLE):
        return f"the registry {registry} is not reachable: check its address and that it is running"
    return f"pulling {reference} from {registry} failed"


def registry_of(reference: str) -> str:
    """The registry a reference pulls from: its first part when that names a host, else Docker Hub."""
    first, _, rest = reference.partition("/")
    if rest and ("." in first or ":" in first or first == "localhost"):
        return first
    return "docker.io"


def _scrub(message: str, secret: str) -> str:
    return message.replace(secret, "***") if secret else message


def delete_image(image: Image, *, actor: str, organization: Organization | None = None) -> None:
    """Remove the image from the engine and forget it; refused (409) while a deployment uses it.

    With ``organization`` (anyone but staff), only that organization's own images: a shared image
    is refused (403).
    """
    if organization is not None and image.organization_id != organization.pk:
        refuse(f"{image.reference} is shared: only staff can delete it", actor=actor, field="image", exc=Forbidden)
    users = list(image.deployments.values_list("name", flat=True))
    if users:
        refuse(
            f"{image.reference} is used by deployment(s) {', '.join(users)}: delete them first",
            actor=actor,
            field="image",
        )
    conflict = ""
    try:
        engine.remove_image(image.reference)
    except engine.ImageNotFound:
        pass  # already gone from the engine: forgetting the row is all that is left
    except engine.EngineConflict as exc:
        conflict = f"the engine refused to remove {image.reference}: {exc}"
    if conflict:
        refuse(conflict, actor=actor, field="image")
    try:
        with transaction.atomic():
            Image.objects.filter(pk=image.pk).delete()
            record(
                "image.deleted",
                actor=actor,
                organization_id=image.organization_id,
                message=f"deleted {image.reference}",
                before={"reference": image.reference, "docker_id": image.docker_id, "source": image.source},
            )
    except ProtectedError:
        refuse(f"{image.reference} was just put to use by a deployment", actor=actor, field="image")


# --- desired state and counts (the seed's GET /images) ------------------------------------------


@dataclass(frozen=True)
class ImageUsage:
    image: Image
    deployments: list[Deployment]
    running_by_deployment: dict[int, int]

    @property
    def desired_replicas(self) -> int:
        return sum(deployment.replicas for deployment in self.deployments)

    @property
    def running(self) -> int:
        return sum(self.running_by_deployment.get(deployment.pk, 0) for deployment in self.deployments)


def image_usage(organization: Organization | None = None) -> list[ImageUsage]:
    """Every image (of ``organization`` and the shared ones; all for None) with its deployments'
    desired replicas and the containers running now.

    Images are synced from the engine first; running containers are counted on the engine
    (one call, by this orchestrator's labels), so a container killed a moment ago is not counted.
    """
    sync_images()
    observed = engine.list_containers(engine.instance_labels())
    running = dict(Counter(info.deployment_id for info in observed if info.running and info.deployment_id))
    # The deployments of every image in one query, not one per image.
    deployments = Deployment.objects.order_by("name")
    rows = Image.objects.all()
    if organization is not None:
        deployments = deployments.filter(organization=organization)
        rows = rows.filter(Q(organization=organization) | Q(organization__isnull=True))
    images = rows.prefetch_related(Prefetch("deployments", queryset=deployments))
    return [
        ImageUsage(image=image, deployments=list(image.deployments.all()), running_by_deployment=running)
        for image in images
    ]
