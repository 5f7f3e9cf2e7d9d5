"""Schemathesis over every operation of the API schema: no 5xx, every answer as the schema says.

Nothing here names an endpoint: the schema is the one ``/api/schema/`` serves (drf-spectacular's
generator, read at collection), one test per operation, so an endpoint added later is fuzzed
too. The requests go through the whole Django stack in-process (WSGI), against the real database
and the real engine, with a real token. ``fuzz_hooks`` keeps the run bounded and on this machine
(small counts, pulls and webhooks aimed at 127.0.0.1, a disposable image to delete);
``FUZZ_EXAMPLES`` sets the examples per operation (default 12: the run takes a few minutes).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from django.core.wsgi import get_wsgi_application
from drf_spectacular.generators import SchemaGenerator
from hypothesis import HealthCheck, settings
from rest_framework.authtoken.models import Token
from schemathesis.config import NotAServerErrorConfig

from conftest import TEST_IMAGE_PREFIX, TEST_INSTANCE, docker_cli
from containers.models import Image
from orchestrator_site.tests import fuzz_hooks

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "12"))

schema = schemathesis.openapi.from_dict(SchemaGenerator().get_schema(request=None, public=True))
schema.app = get_wsgi_application()
schema.hook(fuzz_hooks.map_case)
# A 503 is the documented answer of a health check that finds a part down (no worker runs here),
# not a crash; every other 5xx fails the run. Every operation declares its 503.
schema.config.checks.not_a_server_error = NotAServerErrorConfig(expected_statuses=["2xx", "3xx", "4xx", "503"])
# Two checks judge how strict input validation is, not what the API answers, and are left out:
# schema-valid is not always valid (a row that does not exist, min above max, a password without
# a username are 400s naming the field), and list filters are shared with the console's HTML
# forms, which send an empty field for "any" (so ``?created_before=`` is no filter).
schema.config.checks.update(excluded_check_names=["positive_data_acceptance", "negative_data_rejection"])


@pytest.fixture
def fuzz_token(transactional_db: None, user: Any, demo_image: Any, remove_test_containers: None) -> Iterator[str]:
    """A token for the fuzzer, the demo image to start, and a tag of it the run may delete."""
    token, _ = Token.objects.get_or_create(user=user)
    disposable = f"{TEST_IMAGE_PREFIX}fuzz-{TEST_INSTANCE}:1"
    docker_cli("tag", demo_image.reference, disposable)
    fuzz_hooks.DISPOSABLE["image"] = Image.objects.create(reference=disposable, docker_id=demo_image.docker_id).pk
    try:
        with fuzz_hooks.bounded():
            yield token.key
    finally:
        fuzz_hooks.DISPOSABLE.clear()
        if docker_cli("images", "-q", disposable):
            docker_cli("rmi", disposable)


@schema.parametrize()
@settings(max_examples=EXAMPLES, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
def test_every_operation_answers_as_documented_and_never_with_a_server_error(case: Any, fuzz_token: str) -> None:
    case.call_and_validate(headers={"Authorization": f"Token {fuzz_token}"})
