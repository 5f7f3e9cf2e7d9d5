"""The console's Services page and its polled partial."""

from __future__ import annotations

from django.urls import URLPattern, path

from registry import console

urlpatterns: list[URLPattern] = [
    path("console/services/", console.service_list, name="console-services"),
    path("console/services/rows/", console.service_rows, name="console-services-rows"),
]
