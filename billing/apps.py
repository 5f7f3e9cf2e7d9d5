"""Billing: usage metered from the kernel's cumulative counters, price plans, invoices, exports.

The top floor: it registers its receivers into the containers floor's hooks here, and nothing
below imports it.
"""

from __future__ import annotations

from django.apps import AppConfig


class BillingConfig(AppConfig):
    name = "billing"
    verbose_name = "Billing"

    def ready(self) -> None:
        from billing import budgets, final_reading, inventory, invoices
        from containers import hooks
        from health import alerts
        from tenancy import hooks as tenancy_hooks

        tenancy_hooks.register(tenancy_hooks.before_organization_delete, invoices.before_organization_delete)

        # The budget alert is delivered by the alert rules like any event they know.
        alerts.KINDS.setdefault(budgets.KIND, budgets.MEANING)

        if inventory.after_converge not in hooks.after_converge:
            hooks.after_converge.append(inventory.after_converge)
        for hook_list, receiver in (
            (hooks.before_container_stop, final_reading.before_stop),
            (hooks.before_container_restart, final_reading.before_restart),
        ):
            if receiver not in hook_list:
                hook_list.append(receiver)
