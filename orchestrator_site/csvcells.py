"""CSV cells that a spreadsheet opens as text, never as a formula.

A cell starting with ``=``, ``+``, ``-`` or ``@`` (or a tab or carriage return, which some
spreadsheets skip before looking for one) is run as a formula when the file is opened: an event
message written by a user could then call ``HYPERLINK`` or ``WEBSERVICE`` on whoever exports it.
Such cells get a leading apostrophe (OWASP's advice), which spreadsheets show as text.
"""

from __future__ import annotations

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: str) -> str:
    """``value`` as it can be written to a CSV cell without being taken for a formula."""
    return "'" + value if value.startswith(FORMULA_STARTS) else value


def safe_row(values: list[str]) -> list[str]:
    return [safe_cell(value) for value in values]
