"""Rendered collectivity barometers (PDF), held in memory so a second download is immediate.

WeasyPrint takes seconds for one collectivity's PDF: longer than many HTTP clients wait. The
portal and the back office hold each rendered PDF of a *closed* campaign under

    (campaign id, collectivity id, data version, language, report options)

- the collectivity is in the key: one collectivity's PDF is never another's answer, whatever
  the request names (the portal's collectivity is the account's; the back office's is looked
  up from the INSEE code and checked to have taken part);
- the data version (``reports.figures_store.data_version``: the code's, the catalogue's and
  the campaign's contacts, events and answers) is read afresh for every download: a
  correction recorded after the close changes it and the next download renders anew. A PDF
  is held only when the version read after rendering is the one read before, and the
  campaign figures it used were held for that same version (``BarometerCache.held_version``);
- a campaign still open (back office only) is rendered every time: its figures move.

Why memory rather than files: a PDF is a few hundred kilobytes; a bounded in-process LRU (by
bytes, ``MAX_BYTES`` by default) needs no private folder, no atomic writes or link checks,
and nothing to clean after a crash or an upgrade; what is lost at restart is one render per
PDF asked again. Each web process holds its own: several workers may render the same PDF
once each. One render at a time per key: requests asking meanwhile wait for its result.
The PDF's « généré le » is its first render's.
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from typing import NamedTuple

from reports.render import ReportOptions

MAX_BYTES = 64 * 1024 * 1024


class PdfKey(NamedTuple):
    campaign_id: int
    collectivity_id: int
    version: str
    locale: str
    options: ReportOptions


class PdfCache:
    def __init__(self, max_bytes: int = MAX_BYTES) -> None:
        self.max_bytes = max_bytes
        self._held: OrderedDict[PdfKey, bytes] = OrderedDict()
        self._size = 0
        self._locks: dict[PdfKey, asyncio.Lock] = {}
        self.rendered = 0  # PDFs rendered (for tests and benches)
        self.served = 0  # PDFs answered from memory

    @property
    def size(self) -> int:
        return self._size

    def __len__(self) -> int:
        return len(self._held)

    def get(self, key: PdfKey) -> bytes | None:
        found = self._held.get(key)
        if found is not None:
            self._held.move_to_end(key)
        return found

    def put(self, key: PdfKey, data: bytes) -> None:
        """Hold ``data``, dropping the least recently used PDFs beyond ``max_bytes``; one
        larger than the whole bound is not held."""
        old = self._held.pop(key, None)
        if old is not None:
            self._size -= len(old)
        if len(data) > self.max_bytes:
            return
        self._held[key] = data
        self._size += len(data)
        while self._size > self.max_bytes:
            _, gone = self._held.popitem(last=False)
            self._size -= len(gone)

    async def pdf(self, key: PdfKey, render: Callable[[], Awaitable[tuple[bytes, bool]]]) -> bytes:
        """The held PDF for ``key``, or ``render()``'s (held when it says it may be)."""
        found = self.get(key)
        if found is not None:
            self.served += 1
            return found
        lock = self._locks.setdefault(key, asyncio.Lock())
        try:
            async with lock:
                found = self.get(key)
                if found is not None:
                    self.served += 1
                    return found
                data, keep = await render()
                self.rendered += 1
                if keep:
                    self.put(key, data)
                return data
        finally:
            if not lock.locked() and self._locks.get(key) is lock:
                del self._locks[key]
