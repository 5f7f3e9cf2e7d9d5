from django.apps import AppConfig


class TenancyConfig(AppConfig):
    name = "tenancy"
    verbose_name = "Organizations"

    def ready(self) -> None:
        from tenancy import schema, signals  # noqa: F401 - schema registers the OpenAPI extension

        signals.connect()
