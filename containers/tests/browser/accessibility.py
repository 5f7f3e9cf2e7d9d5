"""An automated accessibility check of the page in the browser: axe-core (vendored for the tests only,
see vendor/README.md), keeping the findings rated serious or critical."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

from playwright.sync_api import Page

AXE = Path(__file__).resolve().parent / "vendor" / "axe.min.js"
SEVERE = ("serious", "critical")

RUN = """async (severe) => {
  const results = await axe.run(document, { resultTypes: ["violations"] });
  return results.violations
    .filter((v) => severe.includes(v.impact))
    .map((v) => ({ rule: v.id, impact: v.impact, help: v.help,
                   where: v.nodes.slice(0, 3).map((n) => n.target.join(" ") + ": " + n.failureSummary) }));
}"""


@cache
def axe_source() -> str:
    return AXE.read_text(encoding="utf-8")


def severe_findings(page: Page) -> list[dict[str, Any]]:
    """axe-core's serious and critical findings on the page as it is now (an empty list when none).

    Evaluated through the DevTools protocol, not a script tag, so the page's Content-Security-Policy
    (no inline scripts) applies to the page as served and is not loosened for the check.
    """
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        # The source sets window.axe; a trailing expression keeps the evaluation's value serializable.
        page.evaluate(axe_source() + "\n;0")
    return list(page.evaluate(RUN, list(SEVERE)))
