"""Final invoices and their lines refuse every change in the database itself.

The models refuse it already (``InvoiceFinal``, 409), but a raw ``QuerySet.update``/``delete`` or
SQL skips them; these triggers don't. Raised as an integrity error (SQLSTATE 23000 on
PostgreSQL, SQLITE_CONSTRAINT_TRIGGER on SQLite), so Django answers ``IntegrityError``.

What still works: a draft becoming final (its old status is draft), drafts recomputed and deleted,
a credit pointed at a final invoice (credits are their own table), lines added to drafts. PostgreSQL's
TRUNCATE (the test runner's flush) fires no row triggers; SQLite's flush deletes rows, so on SQLite
a database holding final invoices can't be flushed, which is the point of the records.
"""

from __future__ import annotations

from typing import Any

from django.db import migrations

MESSAGE = "a final invoice and its lines cannot be changed; add a credit to a later one"

POSTGRESQL_UP = f"""
CREATE OR REPLACE FUNCTION billing_invoice_final_guard() RETURNS trigger AS $$
BEGIN
    IF OLD.status = 'final' THEN
        RAISE EXCEPTION 'billing_invoice %: {MESSAGE}', OLD.id USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    IF TG_OP = 'DELETE' THEN
        RETURN OLD;
    END IF;
    RETURN NEW;
END
$$ LANGUAGE plpgsql;

CREATE TRIGGER billing_invoice_final_guard BEFORE UPDATE OR DELETE ON billing_invoice
    FOR EACH ROW EXECUTE FUNCTION billing_invoice_final_guard();

CREATE OR REPLACE FUNCTION billing_invoiceline_final_guard() RETURNS trigger AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE')
       AND EXISTS (SELECT 1 FROM billing_invoice WHERE id = OLD.invoice_id AND status = 'final') THEN
        RAISE EXCEPTION 'billing_invoiceline %: {MESSAGE}', OLD.id USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE')
       AND EXISTS (SELECT 1 FROM billing_invoice WHERE id = NEW.invoice_id AND status = 'final') THEN
        RAISE EXCEPTION 'billing_invoiceline of invoice %: {MESSAGE}', NEW.invoice_id
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    IF TG_OP = 'DELETE' THEN
        RETURN OLD;
    END IF;
    RETURN NEW;
END
$$ LANGUAGE plpgsql;

CREATE TRIGGER billing_invoiceline_final_guard BEFORE INSERT OR UPDATE OR DELETE ON billing_invoiceline
    FOR EACH ROW EXECUTE FUNCTION billing_invoiceline_final_guard();
"""

POSTGRESQL_DOWN = """
DROP TRIGGER IF EXISTS billing_invoiceline_final_guard ON billing_invoiceline;
DROP FUNCTION IF EXISTS billing_invoiceline_final_guard();
DROP TRIGGER IF EXISTS billing_invoice_final_guard ON billing_invoice;
DROP FUNCTION IF EXISTS billing_invoice_final_guard();
"""

# SQLite runs one statement per execute(): a list. RAISE(ABORT) undoes the statement and fails it.
SQLITE_UP = [
    f"""CREATE TRIGGER billing_invoice_final_no_update BEFORE UPDATE ON billing_invoice
        FOR EACH ROW WHEN OLD.status = 'final'
        BEGIN SELECT RAISE(ABORT, 'billing_invoice: {MESSAGE}'); END""",
    f"""CREATE TRIGGER billing_invoice_final_no_delete BEFORE DELETE ON billing_invoice
        FOR EACH ROW WHEN OLD.status = 'final'
        BEGIN SELECT RAISE(ABORT, 'billing_invoice: {MESSAGE}'); END""",
    f"""CREATE TRIGGER billing_invoiceline_final_no_insert BEFORE INSERT ON billing_invoiceline
        FOR EACH ROW WHEN EXISTS (SELECT 1 FROM billing_invoice WHERE id = NEW.invoice_id AND status = 'final')
        BEGIN SELECT RAISE(ABORT, 'billing_invoiceline: {MESSAGE}'); END""",
    f"""CREATE TRIGGER billing_invoiceline_final_no_update BEFORE UPDATE ON billing_invoiceline
        FOR EACH ROW WHEN EXISTS (
            SELECT 1 FROM billing_invoice WHERE id IN (OLD.invoice_id, NEW.invoice_id) AND status = 'final'
        )
        BEGIN SELECT RAISE(ABORT, 'billing_invoiceline: {MESSAGE}'); END""",
    f"""CREATE TRIGGER billing_invoiceline_final_no_delete BEFORE DELETE ON billing_invoiceline
        FOR EACH ROW WHEN EXISTS (SELECT 1 FROM billing_invoice WHERE id = OLD.invoice_id AND status = 'final')
        BEGIN SELECT RAISE(ABORT, 'billing_invoiceline: {MESSAGE}'); END""",
]

SQLITE_DOWN = [
    f"DROP TRIGGER IF EXISTS {name}"
    for name in (
        "billing_invoice_final_no_update",
        "billing_invoice_final_no_delete",
        "billing_invoiceline_final_no_insert",
        "billing_invoiceline_final_no_update",
        "billing_invoiceline_final_no_delete",
    )
]


def _run(schema_editor: Any, postgresql: str, sqlite: list[str]) -> None:
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(postgresql, params=None)
    elif vendor == "sqlite":
        for statement in sqlite:
            schema_editor.execute(statement, params=None)
    else:
        raise NotImplementedError(f"final invoices' guard triggers: no SQL for {vendor}")


def up(apps: Any, schema_editor: Any) -> None:
    _run(schema_editor, POSTGRESQL_UP, SQLITE_UP)


def down(apps: Any, schema_editor: Any) -> None:
    _run(schema_editor, POSTGRESQL_DOWN, SQLITE_DOWN)


class Migration(migrations.Migration):
    dependencies = [
        ("billing", "0002_plan_quotas"),
    ]

    operations = [migrations.RunPython(up, down)]
