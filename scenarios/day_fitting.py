"""Fitting one collectivity's contacts onto business days: the three strategies, in order.

Pure work on integer day indices (no calendar, no clock). ``scenarios.placement`` builds the
inputs for one collectivity and calls, until one succeeds::

    spread_days(interleave(reqs, rng), ...)   evenly spaced targets, nearest fitting day
        -> None: pack_days(...)                  day by day, most remaining contacts first
        -> None: search_days(...)                bounded exhaustive search (tight windows)

Shared vocabulary: ``d`` indexes the département's business days in the window;
``cap[d]`` is how many more contacts the collectivity may get that day; ``masks[profile][d]``
says whether an hours profile has time left that day; ``fixed_days[service_id]`` lists the
days already taken by kept contacts; ``gap`` is the lockout plus one (two contacts to the
same service are at least ``gap`` days apart). A strategy returns one day per request, in
the order of ``reqs``, or None; none of them changes its arguments. ``max_spaced`` serves
the lockout feasibility check that runs before them.
"""

from __future__ import annotations

import bisect
import random

from scenarios.plan_model import Request


def max_spaced(mask: list[bool], taken: list[int], gap: int) -> int:
    """How many new days fit on ``mask`` at least ``gap`` apart from each other and ``taken``."""
    count = 0
    last = -(10**9)
    for d, ok in enumerate(mask):
        if not ok or d - last < gap:
            continue
        j = bisect.bisect_left(taken, d - gap + 1)
        if j < len(taken) and taken[j] < d + gap:
            continue
        count += 1
        last = d
    return count


def interleave(reqs: list[Request], rng: random.Random) -> list[int]:
    """Request positions, one per service in turn, so a service's contacts are far apart."""
    groups: dict[int, list[int]] = {}
    for i, r in enumerate(reqs):
        groups.setdefault(r.service.id, []).append(i)
    lists = list(groups.values())
    rng.shuffle(lists)
    for group in lists:
        rng.shuffle(group)
    order: list[int] = []
    depth = max(len(g) for g in lists)
    for k in range(depth):
        order.extend(g[k] for g in lists if k < len(g))
    return order


def spread_days(
    order: list[int],
    reqs: list[Request],
    usable: list[int],
    cap: list[int],
    masks: dict[int, list[bool]],
    fixed_days: dict[int, list[int]],
    gap: int,
    rng: random.Random,
) -> list[int] | None:
    """Evenly spaced targets over the usable days; each request takes the nearest fit."""
    n_usable = len(usable)
    cap = list(cap)
    result = [-1] * len(reqs)
    days_of: dict[int, list[int]] = {sid: list(ds) for sid, ds in fixed_days.items()}
    offset = rng.random()
    k_total = len(order)
    for k, i in enumerate(order):
        r = reqs[i]
        mask = masks[r.profile]
        mine = days_of.setdefault(r.service.id, [])
        target = int((k + offset) * n_usable / k_total)
        step = 1 if rng.random() < 0.5 else -1
        found = -1
        for delta in range(2 * n_usable + 1):
            pos = target + (delta + 1) // 2 * (step if delta % 2 else -step)
            if not 0 <= pos < n_usable:
                continue
            d = usable[pos]
            if cap[d] > 0 and mask[d] and all(abs(d - x) >= gap for x in mine):
                found = d
                break
        if found < 0:
            return None
        cap[found] -= 1
        mine.append(found)
        result[i] = found
    return result


def pack_days(
    reqs: list[Request],
    cap: list[int],
    masks: dict[int, list[bool]],
    fixed_days: dict[int, list[int]],
    gap: int,
) -> list[int] | None:
    """Day by day from the start, most remaining contacts of a service first."""
    remaining: dict[int, list[int]] = {}
    for i, r in enumerate(reqs):
        remaining.setdefault(r.service.id, []).append(i)
    days_of: dict[int, list[int]] = {sid: list(ds) for sid, ds in fixed_days.items()}
    result = [-1] * len(reqs)
    for d in range(len(cap)):
        room = cap[d]
        while room > 0:
            best: tuple[int, int] | None = None
            for sid, pending in remaining.items():
                if not pending:
                    continue
                if any(abs(d - x) < gap for x in days_of.get(sid, [])):
                    continue
                fits = [i for i in pending if masks[reqs[i].profile][d]]
                if fits and (best is None or len(pending) > len(remaining[best[0]])):
                    best = (sid, fits[0])
            if best is None:
                break
            sid, i = best
            remaining[sid].remove(i)
            days_of.setdefault(sid, []).append(d)
            result[i] = d
            room -= 1
    if any(remaining.values()):
        return None
    return result


class _Budget(Exception):
    pass


SEARCH_BUDGET = 20_000


def search_days(
    reqs: list[Request],
    usable: list[int],
    cap: list[int],
    masks: dict[int, list[bool]],
    fixed_days: dict[int, list[int]],
    gap: int,
) -> tuple[list[int] | None, bool]:
    """Last resort for tight windows: depth-first search, the request with the fewest
    possible days first. Exhaustive within ``SEARCH_BUDGET`` tries; returns the days (or
    None) and whether the budget ran out before the search could conclude."""
    cap = list(cap)
    days_of: dict[int, list[int]] = {sid: list(ds) for sid, ds in fixed_days.items()}
    domains = [[d for d in usable if masks[r.profile][d]] for r in reqs]
    result = [-1] * len(reqs)
    tries = 0

    def options(i: int) -> list[int]:
        mine = days_of.get(reqs[i].service.id, [])
        return [d for d in domains[i] if cap[d] > 0 and all(abs(d - x) >= gap for x in mine)]

    def solve(remaining: list[int]) -> bool:
        nonlocal tries
        if not remaining:
            return True
        best, best_opts = -1, list[int]()
        for i in remaining:
            opts = options(i)
            if not opts:
                return False
            if best < 0 or len(opts) < len(best_opts):
                best, best_opts = i, opts
        rest = [i for i in remaining if i != best]
        mine = days_of.setdefault(reqs[best].service.id, [])
        for d in best_opts:
            tries += 1
            if tries > SEARCH_BUDGET:
                raise _Budget
            cap[d] -= 1
            mine.append(d)
            result[best] = d
            if solve(rest):
                return True
            cap[d] += 1
            mine.pop()
        return False

    try:
        return (result if solve(list(range(len(reqs)))) else None), False
    except _Budget:
        return None, True
