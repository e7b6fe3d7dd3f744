"""Parse and classify fetched mail off the event loop: in worker processes, or in a thread.

    tracker ──analyse(raws)──► AnalysisPool
                                 workers = 0: one thread (shares the GIL with the event loop)
                                 workers ≥ 1: a process pool (spawned, never forked: the parent
                                   runs threads, aiosqlite's among them); the batch is cut into
                                   chunks of similar byte size, raw bytes go out, plain
                                   ``Analysis`` dataclasses come back pickled
                                 a worker that dies (a parser crash in C, the OOM killer) breaks
                                   the pool: a new pool, then each message of the batch alone;
                                   the one that kills its worker again is quarantined with the
                                   reason, never lost, and never retried for ever

Beside the analysis, a worker reads an answer's own words for the content checks
(``channels.content_checks.read_answer``: greeting, closing, signature, folded text), the part
of those checks that does not depend on the contact the answer is later matched to.

``channels.analysis.analyse`` is pure (bytes in, dataclasses out, never raises), which is what
makes it safe to move between processes. Parsing costs about ten times what recording does,
so on a machine of two cores or more the event loop keeps one core for IMAP and the database
and the workers take the rest (``default_workers``).
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import os
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass

from channels.analysis import Analysis, analyse
from channels.content_checks import AnswerText, read_answer

log = logging.getLogger("temoin.tracking")

Analyse = Callable[[bytes], Analysis]
_CHUNK_BYTES = 2_000_000  # per task: big enough to pay for the pickling, small for balance


def default_workers(cpus: int | None = None) -> int:
    """Worker processes for a machine: none on one core, else all cores but one (at most 4)."""
    count = cpus if cpus is not None else (os.cpu_count() or 1)
    return max(0, min(count - 1, 4))


@dataclass(frozen=True, slots=True)
class Analysed:
    analysis: Analysis
    answer: AnswerText | None = None  # an answer's or a redirect's own words, read


def analyse_one(raw: bytes, function: Analyse = analyse) -> Analysed:
    analysis = function(raw)
    kind = analysis.classification.kind if analysis.classification else None
    if analysis.parsed is None or kind not in ("answer", "redirect"):
        return Analysed(analysis)
    try:
        return Analysed(analysis, read_answer(analysis.parsed))
    except Exception:  # the tracker reads it again, where a bug is seen as it was before
        return Analysed(analysis)


def analyse_chunk(raws: Sequence[bytes], function: Analyse = analyse) -> list[Analysed]:
    """What a worker runs: a module-level function, so that it pickles by name."""
    return [analyse_one(raw, function) for raw in raws]


def chunks(raws: Sequence[bytes], parts: int) -> list[list[bytes]]:
    """Cut a batch in order into chunks of about 1/``parts`` of its bytes (2 MB at most,
    unless one message is larger): about ``parts`` chunks of similar cost."""
    total = sum(len(raw) for raw in raws)
    limit = max(1, min(_CHUNK_BYTES, -(-total // max(parts, 1))))
    out: list[list[bytes]] = []
    current: list[bytes] = []
    size = 0
    for raw in raws:
        current.append(raw)
        size += len(raw)
        if size >= limit:
            out.append(current)
            current, size = [], 0
    if current:
        out.append(current)
    return out


class AnalysisPool:
    """``analyse`` over batches, off the event loop. Close it when done (``close``)."""

    def __init__(self, workers: int, function: Analyse = analyse) -> None:
        if workers < 0:
            raise ValueError("workers must be 0 or more")
        self.workers = workers
        self.function = function
        self._pool: ProcessPoolExecutor | None = None
        self.restarts = 0

    def _executor(self) -> ProcessPoolExecutor:
        if self._pool is None:
            self._pool = ProcessPoolExecutor(
                self.workers, mp_context=multiprocessing.get_context("spawn")
            )
        return self._pool

    async def start(self) -> None:
        """Start the worker processes now rather than on the first batch."""
        if self.workers:
            loop = asyncio.get_running_loop()
            pool = self._executor()
            await asyncio.gather(
                *(loop.run_in_executor(pool, analyse_chunk, []) for _ in range(self.workers))
            )

    async def analyse(self, raws: Sequence[bytes]) -> list[Analysed]:
        """One ``Analysed`` per raw message, in order; never raises for a message's sake."""
        if not raws:
            return []
        if self.workers == 0:
            return await asyncio.to_thread(analyse_chunk, raws, self.function)
        try:
            return await self._run(chunks(raws, 2 * self.workers))
        except Exception as exc:  # a dead worker, or a result that would not pickle
            log.error("parser processes failed (%r); the batch again, one at a time", exc)
            if isinstance(exc, BrokenProcessPool):
                self._restart()
        results: list[Analysed] = []
        for raw in raws:
            try:
                results.extend(await self._run([[raw]]))
            except BrokenProcessPool:
                self._restart()
                died = Analysis(None, None, "parser process died on this message")
                results.append(Analysed(died))
            except Exception as exc:
                reason = f"parser process failed: {type(exc).__name__}: {exc}"[:500]
                results.append(Analysed(Analysis(None, None, reason)))
        return results

    async def _run(self, parts: list[list[bytes]]) -> list[Analysed]:
        loop = asyncio.get_running_loop()
        pool = self._executor()
        futures = [loop.run_in_executor(pool, analyse_chunk, part, self.function) for part in parts]
        done = await asyncio.gather(*futures, return_exceptions=True)
        results: list[Analysed] = []
        for outcome in done:
            if isinstance(outcome, BaseException):
                raise outcome
            results.extend(outcome)
        return results

    def _restart(self) -> None:
        self.restarts += 1
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
        self._pool = None

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None
