"""axe-core accessibility checks for the browser tests: run the pinned axe (tools/audit, `make npm-tools`) in the page
that a Selenium driver (`dash_duo.driver`) shows.

axe runs with its default rules (every impact level, best practices included; no tag filter), so a page passes only
with no violation at all. The script is injected through WebDriver, which the site's Content-Security-Policy
(script-src 'self' and hashes) does not apply to, and axe needs no eval.

    from axe import assert_no_axe_violations
    assert_no_axe_violations(dash_duo.driver, "the home page")
"""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path

AXE_JS = Path(__file__).resolve().parents[2] / "tools/audit/node_modules/axe-core/axe.min.js"
# axe on a large page in a slow, shared CI machine: a few seconds, but allow for much more.
SCRIPT_TIMEOUT_SECONDS = 60
# How much of each violation the failure message shows.
NODES_SHOWN = 3
HTML_CHARS_SHOWN = 200

_RUN_AXE = """
const [context, done] = arguments;
axe.run(context || document, {resultTypes: ["violations"]})
    .then(results => done({violations: results.violations}))
    .catch(error => done({error: String(error && error.stack || error)}));
"""


@lru_cache(maxsize=1)
def _axe_source() -> str:
    if not AXE_JS.exists():
        raise FileNotFoundError(f"{AXE_JS} is missing: run `make npm-tools` to install the pinned axe-core")
    return AXE_JS.read_text(encoding="utf-8")


def axe_violations(driver, context: str | dict | None = None) -> list[dict]:
    """axe's violations on the driver's current page (or only in `context`: a CSS selector, or axe's
    {"include": ..., "exclude": ...}); each is axe's dict: id, impact, help, helpUrl, nodes (target, html, ...)."""
    # Injected only once per document: a second copy would replace axe while another run could be under way.
    if not driver.execute_script("return typeof window.axe === 'object';"):
        driver.execute_script(_axe_source())
    driver.set_script_timeout(SCRIPT_TIMEOUT_SECONDS)
    outcome = driver.execute_async_script(_RUN_AXE, context)
    if "error" in outcome:
        raise RuntimeError(f"axe.run failed: {outcome['error']}")
    return outcome["violations"]


def describe_violations(violations: list[dict]) -> str:
    """A readable list: rule, impact, what it asks, and the first few elements (selector and HTML) per violation."""
    lines = []
    for violation in violations:
        nodes = violation["nodes"]
        lines.append(f"- {violation['id']} ({violation.get('impact') or 'no impact'}): {violation['help']} "
                     f"[{len(nodes)} element{'s' if len(nodes) != 1 else ''}] {violation.get('helpUrl', '')}")
        for node in nodes[:NODES_SHOWN]:
            target = " ".join(str(part) for part in node.get("target", []))
            html = " ".join(node.get("html", "").split())[:HTML_CHARS_SHOWN]
            lines.append(f"    {target}: {html}")
        if len(nodes) > NODES_SHOWN:
            lines.append(f"    ... and {len(nodes) - NODES_SHOWN} more")
    return "\n".join(lines)


def assert_no_axe_violations(driver, what: str, context: str | dict | None = None) -> None:
    """AssertionError listing every axe violation on the current page (`what` names it in the message)."""
    violations = axe_violations(driver, context)
    if violations:
        raise AssertionError(f"axe found {len(violations)} accessibility violation(s) on {what}:\n"
                             + describe_violations(violations))
