"""Usage metering, invoices and exports (built in its own issue; the app is registered so its
migrations and admin slot in without touching the project's settings)."""
