"""A real browser (Playwright driving Debian's chromium) against `temoin web` served by
uvicorn in its own process, on SQLite and PostgreSQL.

A coordinator logs in, opens a campaign's dashboard and the triage queue; a collectivity logs
in, sees its own barometer and nobody else's, and downloads it as a PDF. Every page is
checked for console errors (a Content-Security-Policy violation is one: htmx and the style
sheet must load from the site), axe-core runs on each page visited, and screenshots are
written to ``var/screenshots/``. Kept to one test per database: the browser costs seconds on
two shared cores.
"""

from __future__ import annotations

import io
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from pypdf import PdfReader

from sim.dovecot import free_port
from tests.conftest import DbTarget
from tests.reports.statsworld import COLLECTIVITIES
from tests.web.conftest import A_CODE, CHEAP, PASSWORD, WebWorld, close_contexts, need_chromium

ROOT = Path(__file__).resolve().parents[2]
SHOTS = ROOT / "var" / "screenshots"
NAMES = {code: name for name, code, _population in COLLECTIVITIES}
AXE = Path(__file__).resolve().parent / "vendor" / "axe.min.js"


async def audit(browser: Any, context: Any, urls: list[str]) -> list[str]:
    """axe-core on each page, in a second context with the same cookies that lets the inline
    script in (``bypass_csp``): the test's own context keeps the site's CSP, so a violation
    there still shows up as a console error."""
    twin = await browser.new_context(
        locale="fr-FR", bypass_csp=True, storage_state=await context.storage_state()
    )
    try:
        page = await twin.new_page()
        found = []
        for url in urls:
            answer = await page.goto(url)
            assert answer is not None and answer.status == 200, url
            found += [f"{url}: {p}" for p in await accessibility_problems(page)]
        return found
    finally:
        await twin.close()


async def accessibility_problems(page: Any) -> list[str]:
    """axe-core's serious and critical violations on the page (WCAG 2.x A and AA rules)."""
    await page.add_script_tag(path=str(AXE))
    result = await page.evaluate(
        "axe.run(document, {runOnly: {type: 'tag', values: "
        "['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']}})"
    )
    assert len(result["passes"]) > 10  # axe ran its rules (labels, contrast, headings…)
    return [
        f"{v['id']} ({v['impact']}): {v['help']} – {[n['target'] for n in v['nodes']][:3]}"
        for v in result["violations"]
        if v["impact"] in ("serious", "critical")
    ]


@contextmanager
def serve(db_target: DbTarget, tmp_path: Path, **web: object) -> Iterator[str]:
    """`temoin web` on a free loopback port, on the test's database, with ``[web]`` settings
    overridden by ``web``; its base URL."""
    need_chromium()
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("TEMOIN_")}
    env |= db_target.env()
    env |= {
        "TEMOIN_WEB__SECRET_KEY": "env:TEMOIN_TEST_WEB_KEY",
        "TEMOIN_TEST_WEB_KEY": "browser-test-key-" + "b" * 40,
        "TEMOIN_WEB__SECURE_COOKIES": "false",
        "TEMOIN_WEB__PUBLIC_URL": f"http://127.0.0.1:{port}",
    }
    env |= {f"TEMOIN_WEB__{k.upper()}": str(v) for k, v in (CHEAP | web).items()}
    log_path = tmp_path / f"web-{port}.log"
    log = log_path.open("wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "temoin", "web", "--host", "127.0.0.1", "--port", str(port)],
        cwd=tmp_path, env=env, stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"{base}/sante", timeout=1).text == "ok":
                    break
            except httpx.HTTPError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                log.flush()
                pytest.fail("temoin web did not start:\n" + log_path.read_text())
            time.sleep(0.2)
        yield base
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


@pytest.fixture
def served(db_target: DbTarget, web_world: WebWorld, tmp_path: Path) -> Iterator[str]:
    """`temoin web` on the ``web_world``'s database; its base URL."""
    with serve(db_target, tmp_path) as base:
        yield base


async def log_in(page: Any, base: str, login_name: str, password: str = PASSWORD) -> None:
    """Through the log-in form, as a person would."""
    await page.goto(f"{base}/connexion")
    await page.get_by_label("Identifiant").fill(login_name)
    await page.get_by_label("Mot de passe").fill(password)
    await page.get_by_role("button", name="Se connecter").click()
    await page.wait_for_url(lambda url: "/connexion" not in url)


async def test_coordinator_and_collectivity_in_a_browser(
    served: str, web_world: WebWorld, chromium: Any
) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    errors: list[str] = []
    backend = web_world.database.engine.dialect.name
    browser = chromium
    try:
        context = await browser.new_context(
            locale="fr-FR", viewport={"width": 1280, "height": 900}, accept_downloads=True
        )
        page = await context.new_page()
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: errors.append(str(e)))

        await page.goto(f"{served}/admin")
        assert "/connexion" in page.url
        problems = await audit(browser, context, [page.url])
        await page.get_by_label("Identifiant").fill("coord@example.org")
        await page.get_by_label("Mot de passe").fill(PASSWORD)
        await page.get_by_role("button", name="Se connecter").click()
        await page.get_by_role("heading", name="Campagnes", level=1).wait_for()
        await page.get_by_role("link", name="Baromètre 2026").click()
        await page.get_by_role("heading", name="Avancement par canal").wait_for()
        assert await page.evaluate("typeof window.htmx") == "object"
        # the progress block reloads itself through htmx (with the CSRF header)
        async with page.expect_response(lambda r: r.url.endswith("/avancement")) as info:
            await page.evaluate(
                "htmx.ajax('GET', location.pathname + '/avancement', '#avancement')"
            )
        assert (await info.value).status == 200
        await page.get_by_role("heading", name="Avancement par canal").wait_for()
        await page.screenshot(path=str(SHOTS / f"admin-campaign-{backend}.png"), full_page=True)
        coordinator_pages = [page.url, f"{served}/admin"]
        await page.get_by_role("link", name="Tri des réponses").first.click()
        await page.get_by_role("heading", name="Tri des réponses", level=1).wait_for()
        coordinator_pages.append(page.url)
        problems += await audit(browser, context, coordinator_pages)
        await page.get_by_role("button", name="Se déconnecter").click()
        await page.get_by_role("heading", name="Connexion").wait_for()

        await page.get_by_label("Identifiant").fill("a@mairie.example")
        await page.get_by_label("Mot de passe").fill(PASSWORD)
        await page.keyboard.press("Enter")
        await page.get_by_role("heading", name=f"Résultats\u202f: {NAMES[A_CODE]}").wait_for()
        await page.get_by_role("link", name="Baromètre 2026").click()
        await page.get_by_role("heading", name="Vos résultats, comparés").wait_for()
        text = await page.locator("body").inner_text()
        assert NAMES[A_CODE] in text
        assert [n for c, n in NAMES.items() if c != A_CODE and n in text] == []
        await page.screenshot(path=str(SHOTS / f"portal-report-{backend}.png"), full_page=True)
        # its barometer as a PDF: the same content, its own name, nobody else's
        async with page.expect_download() as info:
            await page.get_by_role("link", name="Télécharger le rapport (PDF)").click()
        download = await info.value
        assert download.suggested_filename.endswith(".pdf")
        pdf = (await download.path()).read_bytes()
        assert pdf.startswith(b"%PDF")
        text = "\n".join(p.extract_text() or "" for p in PdfReader(io.BytesIO(pdf)).pages)
        assert NAMES[A_CODE] in text
        assert [n for c, n in NAMES.items() if c != A_CODE and n in text] == []
        problems += await audit(browser, context, [page.url, f"{served}/portail"])
        assert problems == []
        assert errors == []
        refused = await page.goto(f"{served}/admin")
        assert refused is not None and refused.status == 403
        assert "Accès refusé" in await page.locator("h1").inner_text()
    finally:
        await close_contexts(browser)
