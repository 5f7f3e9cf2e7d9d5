"""Django's ASGI entry point. The watch server (blocking discovery queries) runs
``registry.asgi:application``, which routes ``/api/services/`` to the registry's async app and
everything else here."""

from __future__ import annotations

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "orchestrator_site.settings")

application = get_asgi_application()
