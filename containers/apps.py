from django.apps import AppConfig


class ContainersConfig(AppConfig):
    name = "containers"
    verbose_name = "Containers"

    def ready(self) -> None:
        from containers import audit_log
        from tenancy import audit

        # Tenancy sits below us: its membership, token, quota and login records land in our event log.
        audit.register(audit_log.record_audit)
