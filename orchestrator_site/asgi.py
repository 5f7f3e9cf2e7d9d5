"""The ASGI entry point: the watch server (uvicorn) serves blocking discovery queries.

``/api/services/…`` goes to the registry's async discovery app, which holds hundreds of waiting
clients without a thread each; everything else is Django's own ASGI handler (the console and
API are normally served by gunicorn under WSGI; they work here too).
"""

from __future__ import annotations

import os
from typing import Any

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "orchestrator_site.settings")

django_application = get_asgi_application()

from registry import asgi as discovery  # noqa: E402  (needs the app registry, loaded just above)


async def application(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if discovery.handles(scope):
        await discovery.app(scope, receive, send)
    else:
        await django_application(scope, receive, send)
