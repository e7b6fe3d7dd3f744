"""`campaign show`'s « en attente » section: emails waiting, grouped by why.

``summarize`` groups the waiting steps (storage/dispatch_status.py) by reason and provider,
with the earliest "since", the latest cause and raw reply, and the next attempt: plain data
for ``--json``. ``waiting_lines`` words them from the translation catalogue
(``cli.waiting.*``, French by default), times in the display time zone:

    44 contacts — en attente : fournisseur injoignable depuis 10 h 02 (connection refused) ;
    prochain essai à 10 h 07 — 127.0.0.1:2525
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from scenarios.i18n import Translator
from storage.dispatch_status import Waiting

_DEFERRED = {"outside dispatch hours": "outside_hours", "rate limit": "rate_limit"}


def reason_of(step: Waiting) -> str:
    """The catalogue key of why ``step`` waits."""
    d = step.detail
    if step.kind == "send_failed":
        return "recipient_retry"
    if step.kind == "send_unverified":
        return "verification"
    if step.kind == "deferred":
        return _DEFERRED.get(str(d.get("reason")), "lease_margin")
    if d.get("about") == "provider":
        if d.get("decision") == "retry":
            return "provider_unreachable" if d.get("stage") == "connect" else "provider_failing"
        return "provider_refused"
    return "setup" if d.get("stage") == "setup" else "account_refused"


def summarize(steps: Sequence[Waiting]) -> list[dict[str, Any]]:
    groups: dict[tuple[str, str | None], dict[str, Any]] = {}
    for step in steps:
        d = step.detail
        reason = reason_of(step)
        provider = d.get("provider")
        since = str(d.get("since") or step.at.isoformat())
        cause = d.get("cause") or d.get("reply") or d.get("error")
        entry = groups.setdefault(
            (reason, provider),
            {"reason": reason, "provider": provider, "contacts": 0, "since": since,
             "cause": cause, "reply": d.get("reply"), "next_attempt": None, "_at": step.at},
        )  # fmt: skip
        entry["contacts"] += 1
        entry["since"] = min(entry["since"], since)
        if step.at >= entry["_at"]:  # the latest words
            entry["_at"], entry["cause"], entry["reply"] = step.at, cause, d.get("reply")
        if step.next_at is not None:
            nxt = step.next_at.isoformat()
            entry["next_attempt"] = min(entry["next_attempt"] or nxt, nxt)
    out = []
    for entry in groups.values():
        entry.pop("_at")
        out.append(entry)
    return sorted(out, key=lambda e: (-e["contacts"], e["reason"]))


def _when(t: Translator, instant: datetime, tz: ZoneInfo, now: datetime, *, at: bool) -> str:
    """``10 h 02`` (``à 10 h 02`` with ``at``) today, else ``le 3 mars à 8 h 30``."""
    local = instant.astimezone(tz)
    time = t("cli.waiting.time", hour=local.hour, minute=f"{local.minute:02d}")
    if local.date() == now.astimezone(tz).date():
        return t("cli.waiting.at", time=time) if at else time
    return t("cli.waiting.day_time", day=local.day, month=t(f"month.{local.month}"), time=time)


def waiting_lines(
    entries: Sequence[dict[str, Any]], locale: str, tz: ZoneInfo, now: datetime
) -> list[str]:
    t = Translator(locale)
    lines = []
    for e in entries:
        since = _when(t, datetime.fromisoformat(e["since"]), tz, now, at=False)
        why = t(f"cli.waiting.{e['reason']}", since=since, cause=e["cause"] or "?")
        text = t("cli.waiting.line", why=why)
        if e["next_attempt"]:
            nxt = _when(t, datetime.fromisoformat(e["next_attempt"]), tz, now, at=True)
            text += t("cli.waiting.next", when=nxt)
        count = t("cli.waiting.contacts_one" if e["contacts"] == 1 else "cli.waiting.contacts_many",
                  count=e["contacts"])  # fmt: skip
        where = f" — {e['provider']}" if e["provider"] else ""
        lines.append(f"{count} — {text}{where}")
    return lines
