"""The coordinator's commands, run by the demo in simulated time: print, close, stats, reports.

The demo runs the real ``temoin`` commands (``letters print``, ``campaign close``, ``stats``,
``export``, ``report``, ``triage``) in this process, through the command line it was started
from (handed in by ``temoin demo``, never imported here), with an ``AppContext`` whose clock
is the demo's simulated one: a command run "today" runs on the simulated day. Each runs in a
thread of its own (the commands open their own event loop); what they print goes to
``OUT/logs/commands.log`` unless it is meant for the reader (the statistics tables).
"""

from __future__ import annotations

import asyncio
import contextlib
import io
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol

from typer.exceptions import TyperException

from scenarios.clock import Clock
from sim.demo.world import DemoError, DemoPaths
from temoin.cli.common import AppContext
from temoin.settings import Settings


class CommandLine(Protocol):
    """The ``temoin`` command itself (a Click command, as ``ctx.find_root().command`` gives)."""

    def main(
        self,
        args: Sequence[str] | None = None,
        prog_name: str | None = None,
        complete_var: str | None = None,
        standalone_mode: bool = True,
        windows_expand_args: bool = True,
        **extra: Any,
    ) -> Any: ...


@dataclass
class Commands:
    """``temoin`` commands in simulated time; their output appended to a log file."""

    root: CommandLine  # the ``temoin`` command line itself
    settings: Settings
    clock: Clock
    log_file: Path
    ran: list[str] = field(default_factory=list)

    def _run(self, args: list[str], capture: bool) -> str:
        command = self.root
        context = AppContext(settings=self.settings, clock=self.clock)
        buffer = io.StringIO()
        with contextlib.ExitStack() as stack:
            if capture:
                stack.enter_context(contextlib.redirect_stdout(buffer))
            stack.enter_context(contextlib.redirect_stderr(buffer))
            try:
                code = command.main(
                    args=args, prog_name="temoin", obj=context, standalone_mode=False
                )
            except TyperException as exc:
                raise DemoError(f"temoin {' '.join(args)}: {exc}") from exc
        if code:
            raise DemoError(f"temoin {' '.join(args)} failed (exit {code}): "
                            f"{buffer.getvalue()[-800:].strip()}")  # fmt: skip
        output = buffer.getvalue()
        with self.log_file.open("a", encoding="utf-8") as stream:
            stream.write(f"$ temoin {' '.join(args)}   # at {self.clock.now().isoformat()}\n")
            stream.write(output)
        self.ran.append(" ".join(args))
        return output

    async def run(self, *args: str, capture: bool = True) -> str:
        return await asyncio.to_thread(self._run, list(args), capture)


@dataclass(frozen=True)
class Outputs:
    files: tuple[Path, ...]
    closed: str


async def close_and_report(
    commands: Commands,
    paths: DemoPaths,
    campaign: str,
    close_at: datetime,
    collectivity: str | None,
    *,
    show_stats: bool,
) -> Outputs:
    """Close the campaign at ``close_at``, print the statistics, write exports and reports."""
    closed = await commands.run("campaign", "close", campaign, "--at", close_at.isoformat())
    if show_stats:
        await commands.run("stats", campaign, capture=False)
    else:
        await commands.run("stats", campaign)
    paths.exports.mkdir(parents=True, exist_ok=True)
    paths.reports.mkdir(parents=True, exist_ok=True)
    files: list[Path] = []
    for fmt, level in (("csv", "contacts"), ("xlsx", "contacts"), ("xlsx", "stats")):
        out = paths.exports / f"{campaign}-{level}.{fmt}"
        await commands.run("export", campaign, "--format", fmt, "--level", level,
                           "--out", str(out))  # fmt: skip
        files.append(out)
    for suffix in ("html", "pdf"):
        out = paths.reports / f"{campaign}-national.{suffix}"
        await commands.run("report", campaign, "--out", str(out))
        files.append(out)
    if collectivity is not None:
        for suffix in ("html", "pdf"):
            out = paths.reports / f"{campaign}-{collectivity}.{suffix}"
            await commands.run("report", campaign, "--out", str(out),
                               "--collectivity", collectivity)  # fmt: skip
            files.append(out)
    missing = [str(path) for path in files if not path.exists()]
    if missing:
        raise DemoError(f"not written: {', '.join(missing)}")
    return Outputs(tuple(files), closed.strip())
