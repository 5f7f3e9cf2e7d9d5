"""Console pages for a resource that the API edits through a serializer: a list, create and edit with a
preview and errors at their fields, delete after a confirmation.

The pages validate and save with the resource's own API serializer (or the action function the API
calls), so the console and the API accept and refuse exactly the same things. A :class:`Resource`
says which fields the form shows and how, which columns the list has, and what a preview says; the
app that owns the model builds one and mounts its URLs with :func:`urls`. With HTMX the form is
swapped in place (errors at the fields, or the preview); without JavaScript it posts as usual.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Model, QuerySet
from django.http import HttpResponse, QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import URLPattern, path, reverse
from django.views.decorators.http import require_GET, require_http_methods
from django_htmx.http import HttpResponseClientRedirect
from rest_framework import serializers

from containers.models import actor_name
from containers.refusals import Refused
from containers.views.htmx import HtmxHttpRequest
from tenancy.access import Access, access
from tenancy.console import require_role
from tenancy.scope import scope

# The form's answer when it has errors: a fragment to swap in, never a page replaced by an error page.
FORM_ERRORS = 422


@dataclass(frozen=True)
class Field:
    """One form field. ``kind``: text, number, select, multiple (checkboxes), checkbox, lines (one value a
    line, sent as a list) or json (an object)."""

    name: str
    label: str
    kind: str = "text"
    help: str = ""
    choices: Callable[[], Sequence[tuple[str, str]]] | None = None
    optional: bool = False
    # Choices that depend on who asks (a deployment select lists the caller's own deployments only).
    choices_for: Callable[[Access], Sequence[tuple[str, str]]] | None = None


@dataclass(frozen=True)
class Column:
    label: str
    value: Callable[[Any], Any]


@dataclass(frozen=True)
class Resource:
    """What the pages of one kind of row need to know."""

    slug: str  # in the URLs and their names: /console/<slug>/
    title: str  # "Alert rules"
    singular: str  # "alert rule"
    intro: str
    queryset: Callable[[], QuerySet[Any]]
    serializer: type[serializers.Serializer[Any]]
    fields: tuple[Field, ...]
    columns: tuple[Column, ...]
    empty: str = "None yet."
    # The fields the edit form shows (None: all of them); a resource that cannot be edited has none.
    edit_fields: tuple[str, ...] | None = None
    editable: bool = True
    # save(serializer, instance or None, actor) -> the row; default: serializer.save().
    save: Callable[[serializers.Serializer[Any], Any, str], Any] | None = None
    # delete(row, actor); default: row.delete().
    delete: Callable[[Any, str], None] | None = None
    # preview(validated data, instance or None) -> sentences saying what saving would do.
    preview: Callable[[dict[str, Any], Any], list[str]] | None = None
    label_of: Callable[[Any], str] = str
    extra: dict[str, Any] = field(default_factory=dict)

    def url(self, name: str, *args: Any) -> str:
        return reverse(f"console-{self.slug}-{name}", args=args)

    def form_fields(self, instance: Model | None) -> tuple[Field, ...]:
        if instance is None or self.edit_fields is None:
            return self.fields
        return tuple(f for f in self.fields if f.name in self.edit_fields)


def parse(fields: Sequence[Field], post: QueryDict) -> tuple[dict[str, Any], dict[str, list[str]]]:
    """The posted form as the serializer takes it (lists, booleans, objects), and errors found here."""
    data: dict[str, Any] = {}
    errors: dict[str, list[str]] = {}
    for f in fields:
        raw = post.get(f.name, "")
        if f.kind == "multiple":
            data[f.name] = post.getlist(f.name)
        elif f.kind == "checkbox":
            data[f.name] = f.name in post
        elif f.kind == "lines":
            data[f.name] = [line.strip() for line in raw.splitlines() if line.strip()]
        elif f.kind == "json":
            try:
                data[f.name] = json.loads(raw) if raw.strip() else {}
            except ValueError as exc:
                errors[f.name] = [f"not valid JSON: {exc}"]
        elif f.kind == "select" and f.optional and raw == "":
            data[f.name] = None
        elif f.kind == "number" and raw.strip() == "" and f.optional:
            continue  # left empty: the default (or, on edit, the current value) stays
        else:
            data[f.name] = raw
    return data, errors


def shown_values(fields: Sequence[Field], data: dict[str, Any]) -> dict[str, Any]:
    """What each input shows: text for the text-like kinds, a list for multiple, a flag for checkbox."""
    values: dict[str, Any] = {}
    for f in fields:
        value = data.get(f.name)
        if f.kind == "multiple":
            values[f.name] = [str(v) for v in (value or [])]
        elif f.kind == "checkbox":
            values[f.name] = bool(value)
        elif f.kind == "lines":
            values[f.name] = "\n".join(value or []) if isinstance(value, list) else (value or "")
        elif f.kind == "json":
            values[f.name] = value if isinstance(value, str) else json.dumps(value or {}, indent=2, sort_keys=True)
        else:
            values[f.name] = "" if value is None else str(value)
    return values


def initial(resource: Resource) -> dict[str, Any]:
    """A new row's form: the model's defaults."""
    model = resource.serializer.Meta.model  # type: ignore[attr-defined]
    data: dict[str, Any] = {}
    for f in resource.fields:
        try:
            default = model._meta.get_field(f.name).get_default()
        except Exception:  # a serializer-only field: nothing to start from
            default = None
        data[f.name] = default
    return data


def flatten(detail: Any) -> list[str]:
    if isinstance(detail, dict):
        return [message for value in detail.values() for message in flatten(value)]
    if isinstance(detail, list):
        return [message for value in detail for message in flatten(value)]
    return [str(detail)]


def form_page(
    request: HtmxHttpRequest,
    resource: Resource,
    instance: Model | None,
    values: dict[str, Any],
    errors: dict[str, list[str]] | None = None,
    preview: list[str] | None = None,
    status: int = 200,
) -> HttpResponse:
    fields = resource.form_fields(instance)
    errors = errors or {}
    context = {
        "resource": resource,
        "instance": instance,
        "fields": [
            {
                "spec": f,
                "id": f"id_{f.name}",
                "value": values.get(f.name),
                "errors": errors.get(f.name, []),
                "choices": choices_of(f, access(request)),
            }
            for f in fields
        ],
        "non_field_errors": [m for key, ms in errors.items() if key not in {f.name for f in fields} for m in ms],
        "preview": preview,
        "action": resource.url("edit", instance.pk) if instance else resource.url("new"),
    }
    template = "containers/resources/form.html" if request.htmx else "containers/resources/form_page.html"
    return render(request, template, context, status=status)


def submitted(request: HtmxHttpRequest, resource: Resource, instance: Model | None) -> HttpResponse:
    fields = resource.form_fields(instance)
    data, errors = parse(fields, request.POST)
    values = shown_values(fields, data)
    who = access(request)
    # The caller's access goes along: relations (a deployment by name) resolve among its own rows only.
    serializer = resource.serializer(instance, data=data, partial=instance is not None, context={"access": who})
    if not serializer.is_valid():
        for key, detail in serializer.errors.items():
            errors.setdefault(key, []).extend(flatten(detail))
    if errors:
        return form_page(request, resource, instance, values, errors, status=FORM_ERRORS)
    if "preview" in request.POST:
        sentences = resource.preview(serializer.validated_data, instance) if resource.preview else []
        return form_page(request, resource, instance, values, preview=sentences or ["Valid; nothing saved yet."])
    actor = actor_name(request.user)
    try:
        if instance is None and _owned(serializer):
            # A new row belongs to the caller's organization: a body can't name another.
            serializer.validated_data["organization"] = who.organization
        row = resource.save(serializer, instance, actor) if resource.save else serializer.save()
    except Refused as exc:
        named = exc.field if exc.field in {f.name for f in fields} else "__all__"
        fields_of = getattr(exc, "fields", None)  # a refusal naming several fields (a duplicate address)
        for key in (fields_of or [named]) if fields_of else [named]:
            errors.setdefault(key if key in {f.name for f in fields} else "__all__", []).append(exc.message)
        return form_page(request, resource, instance, values, errors, status=FORM_ERRORS)
    verb = "Saved" if instance else "Created"
    messages.success(request, f"{verb} {resource.singular} {resource.label_of(row)}.")
    if request.htmx:
        return HttpResponseClientRedirect(resource.url("list"))
    return redirect(resource.url("list"))


def choices_of(field: Field, who: Access) -> list[tuple[str, str]]:
    if field.choices_for:
        return list(field.choices_for(who))
    return list(field.choices()) if field.choices else []


def _owned(serializer: Any) -> bool:
    """Does the serializer's model carry its own organization (not one through a relation)?"""
    model = serializer.Meta.model
    return getattr(model, "tenancy_path", "") == "organization"


def mine(request: HtmxHttpRequest, resource: Resource) -> QuerySet[Any]:
    """The resource's rows the caller may see (tenancy.scope)."""
    return scope(resource.queryset(), access(request))


def urls(resource: Resource) -> list[URLPattern]:
    """The four pages of ``resource`` under /console/<slug>/."""

    @require_GET
    @login_required
    def listing(request: HtmxHttpRequest) -> HttpResponse:
        rows = [(row, [column.value(row) for column in resource.columns]) for row in mine(request, resource)]
        return render(request, "containers/resources/list.html", {"resource": resource, "rows": rows})

    @require_http_methods(["GET", "POST"])
    @login_required
    def create(request: HtmxHttpRequest) -> HttpResponse:
        require_role(request)
        if request.method == "POST":
            return submitted(request, resource, None)
        return form_page(request, resource, None, shown_values(resource.fields, initial(resource)))

    @require_http_methods(["GET", "POST"])
    @login_required
    def edit(request: HtmxHttpRequest, pk: int) -> HttpResponse:
        instance = get_object_or_404(mine(request, resource), pk=pk)
        require_role(request)
        if request.method == "POST":
            return submitted(request, resource, instance)
        data = dict(resource.serializer(instance).data)
        return form_page(request, resource, instance, shown_values(resource.form_fields(instance), data))

    @require_http_methods(["GET", "POST"])
    @login_required
    def delete(request: HtmxHttpRequest, pk: int) -> HttpResponse:
        instance = get_object_or_404(mine(request, resource), pk=pk)
        require_role(request)
        if request.method == "GET":
            return render(request, "containers/resources/confirm_delete.html", {"resource": resource, "row": instance})
        label = resource.label_of(instance)
        if resource.delete:
            resource.delete(instance, actor_name(request.user))
        else:
            instance.delete()
        messages.success(request, f"Deleted {resource.singular} {label}.")
        return redirect(resource.url("list"))

    prefix = f"console/{resource.slug}/"
    patterns = [
        path(prefix, listing, name=f"console-{resource.slug}-list"),
        path(f"{prefix}new/", create, name=f"console-{resource.slug}-new"),
        path(f"{prefix}<int:pk>/delete/", delete, name=f"console-{resource.slug}-delete"),
    ]
    if resource.editable:
        patterns.append(path(f"{prefix}<int:pk>/edit/", edit, name=f"console-{resource.slug}-edit"))
    return patterns
