from django.apps import AppConfig


class ContainersConfig(AppConfig):
    name = "containers"
    verbose_name = "Containers"

    def ready(self) -> None:
        from containers import audit_log, organizations, quotas
        from tenancy import audit, hooks
        from tenancy import quotas as tenancy_quotas

        # Tenancy sits below us: its membership, token, quota and login records land in our event log,
        # and its quotas page reads usage from our deployments and images.
        audit.register(audit_log.record_audit)
        hooks.register(hooks.before_organization_delete, organizations.remove_everything_of)
        if quotas.organization_usage not in tenancy_quotas.usage_readers:
            tenancy_quotas.usage_readers.append(quotas.organization_usage)
