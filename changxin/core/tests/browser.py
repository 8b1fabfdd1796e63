"""Shared Playwright helpers and fixtures for browser tests (re-exported by the root conftest.py).

Browser tests drive Debian's Chromium through Playwright's sync API::

    @pytest.mark.browser
    def test_something(page, live_server, demo_world):   # demo_world: see core/tests/builders.py
        login(page, live_server, "lugouqiao")
        page.goto(live_server.url + "/units/")

A screenshot of every `page`/`phone_page` is saved to test-artifacts/<test name>.png on teardown.
"""

from __future__ import annotations

import contextlib
import os
import re
from pathlib import Path

import pytest

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
DEMO_PASSWORD = "changxin-demo"
ARTIFACTS_DIR = Path(__file__).resolve().parents[3] / "test-artifacts"
DESKTOP_VIEWPORT = {"width": 1366, "height": 900}  # the commonest office screen
PHONE_VIEWPORT = {"width": 390, "height": 844}


def artifact_path(name: str) -> Path:
    """Where a screenshot named after a test goes (brackets/slashes of parametrised ids made safe)."""
    ARTIFACTS_DIR.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS_DIR / (re.sub(r"[^\w.-]+", "_", name).strip("_") + ".png")


def login(page, live_server, username: str, password: str = DEMO_PASSWORD, next_url: str = "/"):
    """Log in through the real login form and wait until the app has redirected away from it."""
    base = live_server.url if hasattr(live_server, "url") else str(live_server)
    page.goto(f"{base}/login/?next={next_url}")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.click("form button[type=submit]")
    page.wait_for_url(lambda url: "/login/" not in url)
    return page


@pytest.fixture(scope="session")
def browser():
    if not (os.path.exists(CHROMIUM) and os.access(CHROMIUM, os.X_OK)):
        message = f"{CHROMIUM} is missing: install Debian's chromium package (make setup does)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


def _page(browser, request, **context_options):
    # Playwright's string predicates (wait_for_function) run through eval, which the site's
    # Content-Security-Policy forbids; the policy itself is checked by core/tests/test_browser_csp.py,
    # whose pages do not bypass it.
    context_options.setdefault("bypass_csp", True)
    context = browser.new_context(locale="zh-CN", timezone_id="Asia/Shanghai", **context_options)
    context.set_default_timeout(15_000)
    page = context.new_page()
    try:
        yield page
    finally:
        # a crashed page must not hide the test's own failure
        with contextlib.suppress(Exception):
            page.screenshot(path=str(artifact_path(request.node.name)), full_page=True)
        context.close()


@pytest.fixture
def page(browser, request):
    """A fresh desktop browser context (zh-CN, 1366x900) per test."""
    yield from _page(browser, request, viewport=DESKTOP_VIEWPORT)


@pytest.fixture
def phone_page(browser, request):
    """A fresh phone-sized context (390x844, touch, mobile user agent) per test."""
    yield from _page(
        browser,
        request,
        viewport=PHONE_VIEWPORT,
        device_scale_factor=2,
        is_mobile=True,
        has_touch=True,
        user_agent=(
            "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 "
            "(KHTML, like Gecko) Chrome/126.0 Mobile Safari/537.36"
        ),
    )


def assert_fits(page) -> None:
    """Nothing is cut off: the page does not scroll sideways and no table is wider than its box
    (a wide table used to hide its last columns behind a scroll bar)."""
    # against the viewport the test asked for: an emulated phone (is_mobile) widens its layout
    # viewport, window.innerWidth included, to a page wider than the screen, and zooms out
    width = (page.viewport_size or {}).get("width") or page.evaluate("window.innerWidth")
    overflow = page.evaluate(
        """(width) => {
        const out = [];
        const doc = document.documentElement;
        if (doc.scrollWidth > width + 1) out.push(`page ${doc.scrollWidth}px > ${width}px`);
        document.querySelectorAll('.table-wrap, table').forEach((el) => {
            // not a closed <details>' content (laid out but not rendered) nor anything hidden
            if (!el.checkVisibility()) return;
            if (el.scrollWidth > el.clientWidth + 1 && getComputedStyle(el).display !== 'inline')
                out.push(`${el.id || el.className || el.tagName}: ${el.scrollWidth}px in ${el.clientWidth}px`);
        });
        return out;
    }""",
        width,
    )
    assert not overflow, overflow


AXE_SCRIPT = Path(__file__).resolve().parents[3] / "node_modules" / "axe-core" / "axe.min.js"
WCAG_21_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]


def axe_violations(page, *, exclude: tuple[str, ...] = ()) -> list[dict]:
    """axe-core's WCAG 2.1 AA violations on the page as it is now (axe-core is a devDependency in
    package.json). It is evaluated through the DevTools protocol, so a Content-Security-Policy does
    not stop it."""
    if not page.evaluate("() => Boolean(window.axe)"):
        page.evaluate(AXE_SCRIPT.read_text(encoding="utf-8"))
    return page.evaluate(
        """async ([tags, exclude]) => {
        const context = exclude.length ? { include: [document], exclude: exclude.map((s) => [s]) } : document;
        const result = await window.axe.run(context, { runOnly: { type: "tag", values: tags }, resultTypes: ["violations"] });
        return result.violations.map((v) => ({
            id: v.id, impact: v.impact, help: v.help,
            nodes: v.nodes.slice(0, 5).map((n) => n.target.join(" ") + " :: " + n.failureSummary.split("\\n").slice(0, 2).join(" ")),
        }));
    }""",
        [WCAG_21_AA, list(exclude)],
    )


def assert_accessible(page, *, exclude: tuple[str, ...] = ()) -> None:
    """No WCAG 2.1 AA violation that axe-core finds on the page (labels, contrast, roles, landmarks)."""
    violations = axe_violations(page, exclude=exclude)
    assert not violations, "\n".join(
        f"{v['impact']} {v['id']}: {v['help']}\n    " + "\n    ".join(v["nodes"]) for v in violations
    )


def shot(page, name: str) -> None:
    """A full-page screenshot in test-artifacts/<name>.png."""
    page.screenshot(path=str(artifact_path(name)), full_page=True)


def is_postgresql() -> bool:
    from django.db import connection

    return connection.vendor == "postgresql"


def require_postgres_for(item) -> None:
    """Skip `@pytest.mark.postgres` tests on SQLite; fail them when CHANGXIN_REQUIRE_POSTGRES=1."""
    if item.get_closest_marker("postgres") is None:
        return
    if is_postgresql():
        return
    if os.environ.get("CHANGXIN_REQUIRE_POSTGRES") == "1":
        pytest.fail("CHANGXIN_REQUIRE_POSTGRES=1 but the test database is not PostgreSQL (set DATABASE_URL)")
    pytest.skip("needs PostgreSQL (set DATABASE_URL=postgres://…)")
