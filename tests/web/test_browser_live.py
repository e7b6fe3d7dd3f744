"""A campaign's dashboard follows the worker, in a real browser, on SQLite and PostgreSQL.

A coordinator opens a campaign's dashboard in Debian's chromium (Playwright) against `temoin
web` in its own process; then a real `temoin worker` process sends the campaign's due emails
through the suite's aiosmtpd (copies filed in Dovecot's Sent folder). The progress block polls
every second (``[web] progress_refresh_seconds = 1``): its "sent" figure for email rises to the
number of messages aiosmtpd received, in the same document (never reloaded). The coordinator
reads the same figure with JavaScript off, then drills down from the figure to its contacts
and one contact's page; axe-core finds no serious or critical violation on those pages, the
site's CSP no console error.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select, update

from sim.dovecot import DovecotServer
from sim.smtp_provider import SmtpProvider
from storage.db import Database
from storage.models import Campaign, Contact
from tests.conftest import DbTarget
from tests.runners.crashworld import ALL_WEEK, PRETEND, Mailworld, seed, statuses
from tests.web.conftest import add_account, close_contexts
from tests.web.test_browser import SHOTS, audit, log_in, serve

COUNT = 6
# The email row's "sent or done" figure (the fifth number: total, upcoming, due, late, done).
SENT_FIGURE = """() => {
  const row = [...document.querySelectorAll('#avancement tbody tr')]
    .find(r => r.querySelector('th').innerText.trim() === 'Courriel');
  return row ? row.querySelectorAll('td')[4].innerText.trim() : null;
}"""
# Every value the figure shows, in order, as htmx swaps the block; and a mark that a reload
# (or any navigation) would wipe out.
WATCH = """(figure) => {
  window.sameDocument = true;
  window.seen = [figure()];
  new MutationObserver(() => {
    const now = figure();
    if (now !== window.seen[window.seen.length - 1]) window.seen.push(now);
  }).observe(document.querySelector('#avancement'), {childList: true, subtree: true});
}"""


@contextmanager
def running_worker(world: Mailworld) -> Iterator[None]:
    """`temoin worker` (not --once: it loops, two emails a pass, a pass a second, on the day
    of the campaign's window ``PRETEND``) until the block ends; it must then stop cleanly on
    SIGTERM."""
    log = world.tmp / "worker.log"
    with log.open("wb") as out:
        worker = subprocess.Popen(
            [sys.executable, "-m", "temoin", "worker", "--interval", "1", "--batch-size", "2",
             "--as-of", PRETEND.isoformat()],
            env=world.env(), cwd=world.tmp, stdout=subprocess.DEVNULL, stderr=out,
        )  # fmt: skip
        try:
            yield
        finally:
            worker.terminate()
            code = worker.wait(timeout=30)
    assert code == 0, log.read_text()


async def test_the_dashboard_moves_while_the_worker_sends(
    db_target: DbTarget,
    database: Database,
    smtp_provider: SmtpProvider,
    dovecot_server: DovecotServer,
    mail_user: str,
    tmp_path: Path,
    chromium: Any,
) -> None:
    from playwright.async_api import expect

    persona_email = f"{mail_user}@persona.example"
    smtp_provider.add_account(mail_user, dovecot_server.users[mail_user])
    smtp_provider.add_local_mailbox(persona_email, mail_user, dovecot_server.lmtp_port)
    world = Mailworld(db_target, smtp_provider, dovecot_server, mail_user, persona_email,
                      tmp_path)  # fmt: skip
    # due on the worker's rehearsal day (--as-of, inside the campaign's window), a pair at a time
    seed(world, COUNT, spec=ALL_WEEK, planned_at=PRETEND - timedelta(minutes=5))
    async with database.session() as s:
        ids = list(await s.scalars(select(Contact.id).order_by(Contact.id)))
        for i, contact_id in enumerate(ids):  # two due at once, two more 2 s later, and so on
            at = PRETEND + timedelta(seconds=2 * (i // 2))
            await s.execute(update(Contact).where(Contact.id == contact_id).values(planned_at=at))
    await add_account(database, "coord@example.org", "coordinator")
    async with database.session() as s:
        campaign_id = await s.scalar(select(Campaign.id))
    SHOTS.mkdir(parents=True, exist_ok=True)
    backend = db_target.backend
    errors: list[str] = []
    with serve(db_target, tmp_path, progress_refresh_seconds=1) as base:
        browser = chromium
        try:
            context = await browser.new_context(
                locale="fr-FR", viewport={"width": 1280, "height": 900}
            )
            page = await context.new_page()
            page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda e: errors.append(str(e)))
            await log_in(page, base, "coord@example.org")
            dashboard = f"{base}/admin/campagnes/{campaign_id}"
            await page.goto(dashboard)
            await page.get_by_role("heading", name="Avancement par canal").wait_for()
            assert "mise à jour chaque seconde" in await page.locator("#avancement").inner_text()
            figure = await page.evaluate_handle(f"() => {SENT_FIGURE}")
            await page.evaluate(WATCH, figure)
            navigations: list[str] = []
            main = page.main_frame
            page.on("framenavigated", lambda f: navigations.append(f.url) if f == main else None)

            with running_worker(world):
                sent = page.locator("#avancement tbody tr").filter(
                    has=page.get_by_role("rowheader", name="Courriel")
                )
                await expect(sent.locator("td").nth(4)).to_have_text(str(COUNT), timeout=60_000)

            received = world.service_copies()
            assert len(received) == COUNT
            assert statuses(world)[0]["sent"] == COUNT
            seen = await page.evaluate("window.seen")
            assert seen[0] == "0" and seen[-1] == str(len(received))
            assert [int(x) for x in seen] == sorted(int(x) for x in seen), seen
            assert await page.evaluate("window.sameDocument === true")
            assert navigations == [] and page.url == dashboard
            await page.screenshot(
                path=str(SHOTS / f"admin-dashboard-live-{backend}.png"), full_page=True
            )

            # without JavaScript the dashboard still reads, as served (reloaded by hand)
            plain = await browser.new_context(
                locale="fr-FR", java_script_enabled=False,
                storage_state=await context.storage_state(),
            )  # fmt: skip
            bare = await plain.new_page()
            await bare.goto(dashboard)
            row = bare.locator("#avancement tbody tr").filter(
                has=bare.get_by_role("rowheader", name="Courriel")
            )
            assert await row.locator("td").nth(4).inner_text() == str(COUNT)
            await plain.close()

            # drill down from the figure to its contacts, then to one of them
            await page.locator('#avancement a[href$="canal=email&etape=done"]').click()
            await page.get_by_role("heading", name="Courriel – Envoyés ou réalisés").wait_for()
            contacts = page.url
            rows = page.locator("main tbody tr")
            assert await rows.count() == COUNT
            await rows.first.get_by_role("link").first.click()
            await page.wait_for_url(lambda url: "/admin/contacts/" in url)
            await page.screenshot(path=str(SHOTS / f"admin-contact-{backend}.png"), full_page=True)
            assert await audit(browser, context, [dashboard, contacts, page.url]) == []
            assert errors == []
        finally:
            await close_contexts(browser)
