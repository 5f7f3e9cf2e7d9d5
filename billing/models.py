"""Billing's rows: price plans and which organization is on which when, the containers billing has
seen, the final readings the orchestrator takes before it stops one, hourly usage, and invoices.

Usage and the container registry keep the organization and the deployment's and container's
names themselves (not foreign keys to containers), so usage outlives deleted deployments and
containers. Quantities and money are Decimals.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.core.validators import MinValueValidator, RegexValidator
from django.db import models

from tenancy.errors import Conflict
from tenancy.models import Organization

ZERO = Decimal(0)


class Measure(models.TextChoices):
    """What is metered and priced. The unit is in the label."""

    CPU_RESERVED = "cpu_reserved", "vCPU-hours reserved"
    CPU_USED = "cpu_used", "CPU-seconds used"
    MEMORY_RESERVED = "memory_reserved", "GB-hours of memory reserved"
    MEMORY_USED = "memory_used", "GB-hours of memory used"
    NETWORK_OUT = "network_out", "GB sent"
    STORAGE = "storage", "GB-months of image storage"
    CONTAINER_HOURS = "container_hours", "container-hours"


MEASURES = [m.value for m in Measure]


def _price_fields() -> dict[str, Any]:
    fields: dict[str, Any] = {}
    for measure in Measure:
        fields[f"price_{measure.value}"] = models.DecimalField(
            f"price per {measure.label.split(' ', 1)[0]}",
            default=ZERO,
            max_digits=18,
            decimal_places=9,
            validators=[MinValueValidator(ZERO)],
        )
        fields[f"included_{measure.value}"] = models.DecimalField(
            f"included {measure.label}",
            default=ZERO,
            max_digits=28,
            decimal_places=12,
            validators=[MinValueValidator(ZERO)],
        )
    return fields


class PlanBase(models.Model):
    """Prices per unit of each measure (any may be zero) and the quantity of each included free."""

    locals().update(_price_fields())

    class Meta:
        abstract = True


class Plan(PlanBase):
    """A price plan (staff-managed). Prices are in ``currency`` (ISO 4217), per unit of each measure."""

    name = models.CharField(max_length=100, unique=True)
    currency = models.CharField(
        max_length=3, validators=[RegexValidator(r"^[A-Z]{3}$", "a three-letter ISO 4217 code, e.g. EUR")]
    )
    created_at = models.DateTimeField(auto_now_add=True)
    # The quotas organizations on this plan get (empty: the plan sets no such limit and leaves the
    # organization's own as it is). Applied when a period of the plan starts (billing.plans.apply_quotas).
    quota_cpu = models.DecimalField(
        "CPU cores", max_digits=8, decimal_places=3, null=True, blank=True, validators=[MinValueValidator(ZERO)]
    )
    quota_memory_bytes = models.BigIntegerField(
        "memory (bytes)", null=True, blank=True, validators=[MinValueValidator(0)]
    )
    quota_containers = models.PositiveIntegerField("containers", null=True, blank=True)
    quota_deployments = models.PositiveIntegerField("deployments", null=True, blank=True)
    quota_image_bytes = models.BigIntegerField(
        "images' disk (bytes)", null=True, blank=True, validators=[MinValueValidator(0)]
    )

    QUOTA_FIELDS = ("quota_cpu", "quota_memory_bytes", "quota_containers", "quota_deployments", "quota_image_bytes")

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return f"{self.name} ({self.currency})"

    def price(self, measure: str) -> Decimal:
        return Decimal(getattr(self, f"price_{measure}"))

    def included(self, measure: str) -> Decimal:
        return Decimal(getattr(self, f"included_{measure}"))


class PlanPeriod(models.Model):
    """An organization is on ``plan`` from ``starts_at`` until ``ends_at`` (open: until further notice).

    Periods of one organization never overlap (``billing.plans.assign`` checks under a lock on the
    organization's row); a plan change ends the current period at the change's instant.
    """

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="plan_periods")
    plan = models.ForeignKey(Plan, on_delete=models.PROTECT, related_name="periods")
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField(null=True, blank=True)

    tenancy_path = "organization"

    class Meta:
        ordering = ["organization", "starts_at"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(ends_at__isnull=True) | models.Q(ends_at__gt=models.F("starts_at")),
                name="billing_period_ends_after_start",
            )
        ]

    def __str__(self) -> str:
        return f"{self.organization} on {self.plan.name} from {self.starts_at:%Y-%m-%d %H:%M}"


class MeteredContainer(models.Model):
    """What billing remembers of a container it has seen: who owns it and what it reserved.

    Written when a converge has created it (``after_converge``), when the orchestrator is about to
    stop it, and by every metering run; kept after the container and its deployment are gone.
    """

    container_id = models.BigIntegerField(primary_key=True)  # the containers.Container pk (no constraint)
    docker_id = models.CharField(max_length=80, db_index=True)
    name = models.CharField(max_length=128)
    deployment_id = models.BigIntegerField(null=True)
    deployment_name = models.CharField(max_length=63)
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    cpu_limit = models.DecimalField(max_digits=8, decimal_places=3)
    memory_limit_bytes = models.BigIntegerField()
    started_at = models.DateTimeField(null=True)
    seen_at = models.DateTimeField()

    tenancy_path = "organization"

    def __str__(self) -> str:
        return f"{self.deployment_name}/{self.name}"


class FinalReading(models.Model):
    """The counters read just before the orchestrator stopped or restarted a container itself."""

    class Reason(models.TextChoices):
        STOP = "stop"
        RESTART = "restart"

    container_id = models.BigIntegerField()
    docker_id = models.CharField(max_length=80)
    taken_at = models.DateTimeField()
    reason = models.CharField(max_length=8, choices=Reason.choices)
    cpu_usage_ns = models.BigIntegerField()
    memory_bytes = models.BigIntegerField(null=True)
    net_tx_bytes = models.BigIntegerField(null=True)

    class Meta:
        indexes = [models.Index(fields=["container_id", "taken_at"]), models.Index(fields=["taken_at"])]

    def __str__(self) -> str:
        return f"{self.docker_id[:12]} {self.reason} @ {self.taken_at:%H:%M:%S}"


class Usage(models.Model):
    """One measure of one container in one hour (hour = its start, UTC). Rewritten whole by each metering run."""

    hour = models.DateTimeField()
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    deployment_id = models.BigIntegerField(null=True)
    deployment_name = models.CharField(max_length=63)
    container_id = models.BigIntegerField(null=True)
    container_name = models.CharField(max_length=128)
    docker_id = models.CharField(max_length=80)
    measure = models.CharField(max_length=20, choices=Measure.choices)
    quantity = models.DecimalField(max_digits=28, decimal_places=12)

    tenancy_path = "organization"

    class Meta:
        ordering = ["hour", "deployment_name", "container_name", "measure"]
        constraints = [
            models.UniqueConstraint(fields=["hour", "docker_id", "measure"], name="billing_usage_one_per_hour")
        ]
        indexes = [models.Index(fields=["organization", "hour"])]
        verbose_name_plural = "usage"

    def __str__(self) -> str:
        return f"{self.hour:%Y-%m-%d %H:00} {self.container_name} {self.measure} {self.quantity}"


class MeteredHour(models.Model):
    """One metered hour: when it was last computed, how many rows it gave, and what looked wrong."""

    hour = models.DateTimeField(primary_key=True)
    metered_at = models.DateTimeField()
    containers = models.PositiveIntegerField(default=0)
    rows = models.PositiveIntegerField(default=0)
    anomalies = models.JSONField(default=list, blank=True)

    class Meta:
        ordering = ["-hour"]

    def __str__(self) -> str:
        return f"{self.hour:%Y-%m-%d %H:00}"


class InvoiceFinal(Conflict):
    """A change to a final invoice or its lines (409): corrections are credit lines on a later invoice."""


class Invoice(models.Model):
    """An organization's invoice for one calendar month (UTC). Draft while open; final never changes.

    ``number`` is given at finalization: sequential per organization, without gaps.
    """

    class Status(models.TextChoices):
        DRAFT = "draft"
        FINAL = "final"

    organization = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="invoices")
    month = models.DateField(help_text="the first day of the month billed")
    number = models.PositiveIntegerField(null=True, blank=True)
    status = models.CharField(max_length=5, choices=Status.choices, default=Status.DRAFT)
    currency = models.CharField(max_length=3)
    total = models.DecimalField(default=ZERO, max_digits=18, decimal_places=3)
    computed_at = models.DateTimeField()
    finalized_at = models.DateTimeField(null=True, blank=True)
    finalized_by = models.CharField(max_length=150, blank=True)

    tenancy_path = "organization"

    class Meta:
        ordering = ["organization", "-month"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "month"], name="billing_one_invoice_per_month"),
            models.UniqueConstraint(fields=["organization", "number"], name="billing_invoice_number_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.organization} {self.month:%Y-%m}" + (f" #{self.number}" if self.number else " (draft)")

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk and Invoice.objects.filter(pk=self.pk, status=self.Status.FINAL).exists():
            raise InvoiceFinal(
                "this invoice is final and can't be changed; add a credit to a later one", field="status"
            )
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> Any:
        if Invoice.objects.filter(pk=self.pk, status=self.Status.FINAL).exists():
            raise InvoiceFinal("a final invoice can't be deleted", field="status")
        return super().delete(*args, **kwargs)

    @property
    def is_final(self) -> bool:
        return self.status == self.Status.FINAL

    @property
    def label(self) -> str:
        return f"{self.organization.slug}-{self.number:05d}" if self.number else f"draft {self.month:%Y-%m}"


class InvoiceLine(models.Model):
    """One line: a measure of one deployment under one plan period, an included allowance, or a credit."""

    class Kind(models.TextChoices):
        USAGE = "usage"
        INCLUDED = "included"
        CREDIT = "credit"

    invoice = models.ForeignKey(Invoice, on_delete=models.CASCADE, related_name="lines")
    kind = models.CharField(max_length=8, choices=Kind.choices)
    measure = models.CharField(max_length=20, choices=Measure.choices, blank=True)
    deployment_name = models.CharField(max_length=63, blank=True)
    plan_name = models.CharField(max_length=100, blank=True)
    description = models.CharField(max_length=200)
    quantity = models.DecimalField(max_digits=28, decimal_places=12)
    unit_price = models.DecimalField(max_digits=18, decimal_places=9)
    amount = models.DecimalField(max_digits=18, decimal_places=3)

    tenancy_path = "invoice__organization"

    class Meta:
        ordering = ["invoice", "pk"]

    def __str__(self) -> str:
        return f"{self.description}: {self.amount}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if Invoice.objects.filter(pk=self.invoice_id, status=Invoice.Status.FINAL).exists():
            raise InvoiceFinal("the lines of a final invoice can't be changed", field="lines")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> Any:
        if Invoice.objects.filter(pk=self.invoice_id, status=Invoice.Status.FINAL).exists():
            raise InvoiceFinal("the lines of a final invoice can't be deleted", field="lines")
        return super().delete(*args, **kwargs)


class Credit(models.Model):
    """An amount owed back to an organization (a correction): a credit line on its next invoice."""

    organization = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="credits")
    amount = models.DecimalField(max_digits=18, decimal_places=3, validators=[MinValueValidator(Decimal("0.001"))])
    currency = models.CharField(max_length=3)
    reason = models.CharField(max_length=200)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.CharField(max_length=150, blank=True)
    # The final invoice that carried it; empty until then.
    invoice = models.ForeignKey(Invoice, null=True, blank=True, on_delete=models.PROTECT, related_name="credits")

    tenancy_path = "organization"

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.organization} credit {self.amount} {self.currency}: {self.reason}"


class Budget(models.Model):
    """An organization's monthly budget: an alert when month-to-date cost passes ``alert_pct`` of it."""

    organization = models.OneToOneField(Organization, on_delete=models.CASCADE, related_name="budget")
    amount = models.DecimalField(max_digits=18, decimal_places=3, validators=[MinValueValidator(ZERO)])
    alert_pct = models.PositiveSmallIntegerField(default=80, validators=[MinValueValidator(1)])
    # The month an alert was last raised for, so it is raised once a month.
    alerted_month = models.DateField(null=True, blank=True)

    tenancy_path = "organization"

    def __str__(self) -> str:
        return f"{self.organization}: {self.amount} (alert at {self.alert_pct} %)"
