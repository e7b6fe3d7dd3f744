"""`temoin demo`: a whole campaign on this machine, every protocol real, in simulated time.

``temoin demo`` plans ``examples/demo-campaign.toml`` for the services of
``examples/services.csv`` and runs it (see temoin/demo.py): emails over SMTP to simulated
services that answer into Dovecot mailboxes, replies tracked over IMAP, scripted auditors on
the bot, letters printed; then it closes the campaign, prints the statistics and writes the
exports and reports under ``--out`` (default ``var/demo/``).

``--check`` compares every measured figure with the truth the simulators recorded, prints the
differences and exits 1 if any timing differs. ``--database postgresql://… --workers 2`` runs
the same on PostgreSQL with two ``temoin worker`` processes. ``--plan-only`` imports and plans,
prints the plan and stops.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import sys
from collections.abc import Coroutine
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import typer

from scenarios.input_files import LIMITS, InputFileError, read_input
from temoin.cli.common import app_context, console, fail
from temoin.cli.words import Words, words

if TYPE_CHECKING:
    from sim.demo.check import CheckResult

app = typer.Typer(rich_markup_mode=None, help="cli.help.demo.about")

T = TypeVar("T")


async def _stoppable(work: Coroutine[Any, Any, T]) -> T:
    """``work``, cancelled by SIGTERM as by Ctrl-C, so that its clean-up runs either way."""
    loop = asyncio.get_running_loop()
    task = asyncio.current_task()
    assert task is not None
    with contextlib.suppress(NotImplementedError):
        loop.add_signal_handler(signal.SIGTERM, task.cancel)
    try:
        return await work
    finally:
        with contextlib.suppress(NotImplementedError):
            loop.remove_signal_handler(signal.SIGTERM)


@app.callback(invoke_without_command=True, help="cli.help.demo.demo.about")
def demo(
    ctx: typer.Context,
    out: Path = typer.Option(None, "--out", help="cli.help.demo.demo.out"),
    database: str = typer.Option(None, "--database", help="cli.help.demo.demo.database"),
    workers: int = typer.Option(0, "--workers", min=0, max=16, help="cli.help.demo.demo.workers"),
    check: bool = typer.Option(False, "--check", help="cli.help.demo.demo.check"),
    plan_only: bool = typer.Option(False, "--plan-only", help="cli.help.demo.demo.plan_only"),
    services: Path = typer.Option(None, "--services", help="cli.help.demo.demo.services"),
    campaign: Path = typer.Option(None, "--campaign", help="cli.help.demo.demo.campaign"),
) -> None:
    """Run the demonstration campaign and report on it."""
    # Imported when run: the demo pulls in the simulators and the servers' code (start-up).
    from sqlalchemy.exc import DBAPIError

    from scenarios.campaign_file import CampaignFileError, load_campaign_file
    from scenarios.clock import SteppedClock
    from scenarios.planning import InfeasiblePlan
    from temoin.cli.campaign import plan_summary, print_plan_summary
    from temoin.cli.importer import error_line, refused_line
    from temoin.cli.plan_refusal import refusal_message
    from temoin.demo import (
        DemoError,
        DemoOptions,
        ServicesRefused,
        default_paths,
        display_zone,
        fresh_sqlite,
        run_demo,
        run_full_demo,
        summary_lines,
    )
    from temoin.errors import UserError
    from temoin.planning import PlanRefused

    app_ctx = app_context(ctx)
    services_csv, campaign_file, default_out = default_paths()
    services_csv = services or services_csv
    campaign_file = campaign or campaign_file
    out_dir = out or default_out
    schema = app_ctx.settings.database_schema if database else None
    tz = display_zone(app_ctx.settings.timezone)
    w = words(app_ctx)
    try:
        spec = load_campaign_file(campaign_file)
        if plan_only:
            from temoin.demo import campaign_times

            url = database or fresh_sqlite(out_dir)
            clock = SteppedClock(campaign_times(spec, tz)[0])
            try:
                services_data = read_input(services_csv, LIMITS["services"])
            except InputFileError as exc:
                fail(w("cli.demo.failed", reason=w.input_error(services_csv, exc)))
            planned = asyncio.run(
                run_demo(clock, services_data=services_data, spec=spec,
                         database_url=url, schema=schema)
            )  # fmt: skip
            c = planned.imported
            collectivities = (
                c.collectivities_created + c.collectivities_updated + c.collectivities_unchanged
            )
            count = c.services_created + c.services_updated + c.services_unchanged
            console.print(
                w(
                    "cli.demo.imported",
                    collectivities=w.count("cli.import.collectivities", collectivities),
                    services=w.count("cli.import.services", count),
                )
            )
            print_plan_summary(plan_summary(planned.plan, tz), w)
            console.print(w("cli.demo.database", url=planned.database_url))
            return
        options = DemoOptions(
            out=out_dir,
            services_csv=services_csv,
            campaign_file=campaign_file,
            database_url=database,
            schema=schema,
            workers=workers,
            live=sys.stdout.isatty(),
        )
        root = ctx.find_root().command
        result = asyncio.run(
            _stoppable(run_full_demo(options, app_ctx.settings, spec, console, root))
        )
    except KeyboardInterrupt:
        fail(w("cli.demo.interrupted"), 130)
    except asyncio.CancelledError:
        fail(w("cli.demo.terminated"), 143)
    except PlanRefused as exc:  # the auditors' days cannot hold the plan: say it with numbers
        fail(w("cli.demo.failed", reason=refusal_message(exc, w)))
    except ServicesRefused as exc:  # --services: the file's problems, as the import says them
        for error in exc.errors:
            typer.echo(error_line(services_csv, error, w), err=True)
        fail(w("cli.demo.failed", reason=refused_line(services_csv, exc.errors, w)))
    except CampaignFileError as exc:  # the file's problems, line by line
        fail(w("cli.demo.failed", reason=exc.at(campaign_file).said(w.t)))
    except (DemoError, InfeasiblePlan, UserError, OSError) as exc:
        fail(w("cli.demo.failed", reason=exc))
    except DBAPIError as exc:  # --database unreachable, or refusing us
        reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()
        fail(w("cli.demo.database_failed", reason=reason[0] if reason else type(exc).__name__))
    for line in summary_lines(result, w):
        console.print(line)
    timing = result.check.timing_differences
    differences = w.count("cli.demo.differences", len(timing))
    if check:
        console.print(w("cli.demo.check_title"))
        for line in check_lines(result.check, w):
            console.print(f"  {line}")
    else:
        console.print(w("cli.demo.measured", differences=differences, path=result.paths.check))
    # Last, so a newcomer's screen ends on it: how to serve the back office on these data.
    web_url = database or f"sqlite:///{out_dir / 'temoin.db'}"
    # `make web` serves var/demo/temoin.db: only when the demo wrote there
    default = out is None and database is None
    for line in _web_lines(web_url, schema, spec.name, out_dir, default, w):
        console.print(line)
    if check and timing:
        fail(w("cli.demo.check_failed", differences=differences))


def _web_lines(
    url: str, schema: str | None, campaign: str, out: Path, default: bool, w: Words
) -> list[str]:
    """Accounts for `make web` on the demo's database (``temoin.demo_web``)."""
    from scenarios.clock import SystemClock
    from storage.db import Database
    from temoin.demo_web import demo_web_accounts, web_lines

    async def work() -> list[tuple[str, str, str]]:
        database = Database(url, schema=schema)
        try:
            return await demo_web_accounts(database, campaign, out, SystemClock())
        finally:
            await database.dispose()

    return web_lines(asyncio.run(work()), url, out, default, w, schema)


def check_lines(check: CheckResult, w: Words) -> list[str]:
    """What a coordinator reads at the end of ``temoin demo --check``, in their language;
    the differences themselves (to the second, with their ids) stay as the checker says them."""
    e, s, f, a = check.emails, check.sends, check.field, check.accounting
    n, pct = w.f.number, w.f.percent
    said = "cli.demo.check"
    lines = [
        w(f"{said}.timing", n=n(len(check.timing_differences)),
          timed=n(len(e.contact_differences) + len(s.timing_differences)),
          contacts=n(e.contacts_compared), sends=n(s.sends_compared + s.followups_compared),
          field=n(len(f.timing_differences)), events=n(f.events_compared),
          tasks=n(f.tasks_compared)),
        w(f"{said}.sent_once", requests=n(s.sends_compared), followups=n(s.followups_compared),
          duplicates=n(s.duplicates), unclaimed=n(len(s.unclaimed))),
        w(f"{said}.classification", pct=pct(e.classification_accuracy),
          messages=n(e.messages_compared)),
    ]  # fmt: skip
    lines += [
        w(f"{said}.class_score", kind=kind, precision=pct(score.precision),
          recall=pct(score.recall), tp=n(score.true_positives), fp=n(score.false_positives),
          fn=n(score.false_negatives))
        for kind, score in sorted(e.class_scores.items())
    ]  # fmt: skip
    lines.append(
        w(f"{said}.matching", pct=pct(e.matching_accuracy), wrong=n(e.matched_wrongly),
          unmatched=n(e.unmatched))
    )  # fmt: skip
    if e.form_scores:
        lines.append(w(f"{said}.forms"))
        lines += [
            w(f"{said}.form", label=score.label, messages=n(score.messages),
              classified=n(score.classified), matched=n(score.matched))
            for _, score in sorted(e.form_scores.items())
        ]  # fmt: skip
    lines += [
        w(f"{said}.elements", pct=pct(e.element_accuracy), n=n(e.elements_compared)),
        w(f"{said}.grid", pct=pct(f.answer_accuracy), n=n(f.answers_compared),
          wrong=n(f.wrong_inputs), asked=n(f.re_asked)),
        w(f"{said}.emails", n=n(a.emails), sent=n(a.emails_sent), refused=n(a.emails_refused),
          answered=n(a.emails_answered), bounced=n(a.emails_bounced),
          censored=n(a.emails_censored), acknowledged=n(a.emails_acknowledged),
          followed=n(a.emails_followed_up)),
        w(f"{said}.field", done=n(a.field_done), tasks=n(a.field_tasks),
          posted=n(a.letters_posted), letters=n(a.letters), answered=n(a.letters_answered),
          censored=n(a.letters_censored)),
        w(f"{said}.replies", delivered=n(a.replies_delivered), matched=n(a.replies_matched),
          triaged=n(a.replies_triaged), ignored=n(a.replies_ignored),
          in_triage=n(a.replies_in_triage), lost=n(len(a.replies_lost))),
    ]  # fmt: skip
    for key, items in (
        ("emails_unaccounted", a.emails_unaccounted),
        ("field_unaccounted", a.field_unaccounted),
        ("letters_unaccounted", a.letters_unaccounted),
        ("replies_lost", a.replies_lost),
    ):
        if items:
            lines.append(w(f"{said}.{key}", items=", ".join(str(i) for i in items[:10])))
    lines += [f"  {difference_line(d, w)}" for d in check.timing_found[:30]]
    return lines


def difference_line(d: Any, w: Words) -> str:
    """One timing difference of the check (``sim.truth``: a send, a reply, a button press),
    to the second: « contact 7 : envoi attendu 2026-04-24T08:00:00+00:00, mesuré … (+3 s) »."""
    contact = getattr(d, "contact", None)
    if contact is None:
        contact = getattr(d, "contact_id", "?")
    base = d.fact.split("[", 1)[0]
    fact = w(f"cli.demo.check.fact.{base}") if w.t.has(f"cli.demo.check.fact.{base}") else base
    if base != d.fact:  # event[3]: the fourth button press
        fact = f"{fact} {d.fact[len(base) :]}"
    off = ""
    if isinstance(d.expected, datetime) and isinstance(d.measured, datetime):
        off = w("cli.demo.check.off", s=f"{(d.measured - d.expected).total_seconds():+.0f}")
    return w(
        "cli.demo.check.difference", contact=contact, fact=fact,
        expected=_value(d.expected, w), measured=_value(d.measured, w), off=off,
    )  # fmt: skip


def _value(value: Any, w: Words) -> str:
    if value is None:
        return w("cli.demo.check.nothing")
    if isinstance(value, bool):
        return w.yes_no(value).lower()  # within a sentence
    if isinstance(value, datetime):
        return value.isoformat()  # to the second, in UTC: what the checker compares
    if isinstance(value, str):
        return value
    if isinstance(value, tuple):  # a button press: (kind, instant)
        return " ".join(_value(part, w) for part in value)
    return repr(value)
