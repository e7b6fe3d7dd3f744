"""Who gets what: the scenario and wording of each contact (step 1 of
``scenarios.planning.plan``), then its persona or auditor (step 4).

    demand:  ScenarioChooser.candidates(kind, quota) -> choose(service) -> wording(collectivity)
    people:  [PlannedContact] --assign_personas--> persona_id (emails, letters)
                              --assign_auditors--> auditor_id (phone calls, visits) + uncovered

``ScenarioChooser`` starts from the kept contacts' counts: different scenarios per service
first, then the one whose count/weight is lowest; the least-used wording, avoiding one the
collectivity already receives for that scenario. The two ``assign_*`` functions go through
the contacts in the order ``plan()`` gives (service by service, services shuffled) and take
the least-used person of the channel; ties: one not yet on this service (and, for personas,
not on this collectivity), then round the pool. Auditors are restricted to those covering
the service's département, most constrained contacts first. Each call draws from the
``random.Random`` it is given, so the plan stays a function of the seed.
"""

from __future__ import annotations

import random
from collections.abc import Sequence

from scenarios.domain import Channel
from scenarios.plan_model import (
    CHANNEL_ORDER,
    FIELD,
    WRITTEN,
    AuditorInput,
    ChannelQuota,
    FixedContact,
    InfeasiblePlan,
    PersonaInput,
    PlannedContact,
    ScenarioInput,
    ServiceInput,
)


class ScenarioChooser:
    """Scenario per contact (different ones per service first, then by weight) and wording."""

    def __init__(self, scenarios: Sequence[ScenarioInput], fixed: Sequence[FixedContact]) -> None:
        self.by_id = {s.id: s for s in sorted(scenarios, key=lambda s: s.id)}
        self.by_channel: dict[Channel, list[ScenarioInput]] = {c: [] for c in CHANNEL_ORDER}
        for s in self.by_id.values():
            self.by_channel[s.channel].append(s)
        self.count: dict[str, int] = dict.fromkeys(self.by_id, 0)
        self.wordings: dict[str, list[int]] = {s.id: [0] * max(1, s.n_wordings) for s in scenarios}
        self.used_by_service: dict[int, list[str]] = {}
        self.wordings_by_coll: dict[tuple[int, str], list[int]] = {}
        self._cache: dict[tuple[str, int], list[tuple[ScenarioInput, float]]] = {}
        for f in fixed:
            if f.scenario_id in self.count:
                self.count[f.scenario_id] += 1
                counts = self.wordings[f.scenario_id]
                if 0 <= f.wording < len(counts):
                    counts[f.wording] += 1
            self.used_by_service.setdefault(f.service_id, []).append(f.scenario_id)
            self.wordings_by_coll.setdefault((f.collectivity_id, f.scenario_id), []).append(
                f.wording
            )

    def candidates(
        self, kind: str, q_index: int, quota: ChannelQuota
    ) -> list[tuple[ScenarioInput, float]]:
        """Scenarios of the quota's channel fitting ``kind``, with weights, by id."""
        key = (kind, q_index)
        found = self._cache.get(key)
        if found is None:
            if quota.scenarios:
                pairs = [(self.by_id[i], w) for i, w in quota.scenarios if i in self.by_id]
            else:
                pairs = [(s, 1.0) for s in self.by_channel[quota.channel]]
            found = sorted(
                ((s, w) for s, w in pairs if s.channel is quota.channel and w > 0 and s.fits(kind)),
                key=lambda sw: sw[0].id,
            )
            self._cache[key] = found
        return found

    def choose(
        self, svc: ServiceInput, candidates: list[tuple[ScenarioInput, float]]
    ) -> ScenarioInput:
        used = self.used_by_service.setdefault(svc.id, [])
        count = self.count
        best = candidates[0][0]
        best_key: tuple[bool, float] | None = None
        for scenario, weight in candidates:  # by id: the first of equals wins
            key = (scenario.id in used, count[scenario.id] / weight)
            if best_key is None or key < best_key:
                best, best_key = scenario, key
        count[best.id] += 1
        used.append(best.id)
        return best

    def wording(self, collectivity_id: int, scenario: ScenarioInput) -> int:
        counts = self.wordings[scenario.id]
        used = self.wordings_by_coll.setdefault((collectivity_id, scenario.id), [])
        best, best_key = 0, -1
        for w, n in enumerate(counts):
            key = 2 * n + (w in used)
            if best_key < 0 or key < best_key:
                best, best_key = w, key
        counts[best] += 1
        used.append(best)
        return best


# --------------------------------------------------------------------------------------
# People


def assign_personas(
    contacts: list[PlannedContact],
    order: list[int],
    personas: Sequence[PersonaInput],
    fixed: list[FixedContact],
    rng: random.Random,
) -> None:
    pool: dict[Channel, list[PersonaInput]] = {ch: [] for ch in WRITTEN}
    for p in sorted(personas, key=lambda p: p.key):
        for ch in WRITTEN:
            if ch in p.channels:
                pool[ch].append(p)
    for ch in WRITTEN:
        rng.shuffle(pool[ch])
    counts: dict[Channel, dict[int, int]] = {
        ch: dict.fromkeys((p.id for p in pool[ch]), 0) for ch in WRITTEN
    }
    by_service: dict[int, list[int]] = {}
    by_coll: dict[int, list[int]] = {}
    for f in fixed:
        if f.persona_id is None:
            continue
        if f.channel in WRITTEN and f.persona_id in counts[f.channel]:
            counts[f.channel][f.persona_id] += 1
        by_service.setdefault(f.service_id, []).append(f.persona_id)
        by_coll.setdefault(f.collectivity_id, []).append(f.persona_id)
    turn = 0
    for i in order:
        c = contacts[i]
        if c.channel not in WRITTEN:
            continue
        candidates = pool[c.channel]
        if not candidates:
            raise InfeasiblePlan(f"no persona writes {c.channel}s, and the mix asks for some")
        tally = counts[c.channel]
        on_service = by_service.setdefault(c.service_id, [])
        on_coll = by_coll.setdefault(c.collectivity_id, [])
        # Least used, then not yet on this service, then not on this collectivity; ties go
        # round the pool from a moving start (strictly-less keeps the first of equals).
        size = len(candidates)
        chosen, best_key = 0, -1
        for j in range(size):
            pid = candidates[(turn + j) % size].id
            key = 4 * tally[pid] + 2 * (pid in on_service) + (pid in on_coll)
            if best_key < 0 or key < best_key:
                chosen, best_key = pid, key
        turn += 1
        tally[chosen] += 1
        on_service.append(chosen)
        on_coll.append(chosen)
        contacts[i] = c._replace(persona_id=chosen)


def assign_auditors(
    contacts: list[PlannedContact],
    order: list[int],
    auditors: Sequence[AuditorInput],
    fixed: list[FixedContact],
    services: list[ServiceInput],
    rng: random.Random,
) -> dict[tuple[Channel, str], int]:
    uncovered: dict[tuple[Channel, str], int] = {}
    if not auditors:
        return uncovered
    pool = sorted(auditors, key=lambda a: a.key)
    rng.shuffle(pool)
    dept_by_service = {s.id: s.departement for s in services}
    eligible_cache: dict[str, list[AuditorInput]] = {}

    def eligible(dept: str) -> list[AuditorInput]:
        found = eligible_cache.get(dept)
        if found is None:
            found = [a for a in pool if not a.departements or dept in a.departements]
            eligible_cache[dept] = found
        return found

    counts: dict[Channel, dict[int, int]] = {
        c: dict.fromkeys((a.id for a in pool), 0) for c in FIELD
    }
    by_service: dict[int, list[int]] = {}
    for f in fixed:
        if f.auditor_id is None:
            continue
        if f.channel in FIELD and f.auditor_id in counts[f.channel]:
            counts[f.channel][f.auditor_id] += 1
        by_service.setdefault(f.service_id, []).append(f.auditor_id)
    # Most constrained first (fewest eligible auditors), then service by service.
    field_positions = sorted(
        (i for i in order if contacts[i].channel in FIELD),
        key=lambda i: len(eligible(dept_by_service[contacts[i].service_id])),
    )
    turn = 0
    for i in field_positions:
        c = contacts[i]
        dept = dept_by_service[c.service_id]
        candidates = eligible(dept)
        if not candidates:
            uncovered[c.channel, dept] = uncovered.get((c.channel, dept), 0) + 1
            continue
        tally = counts[c.channel]
        on_service = by_service.setdefault(c.service_id, [])
        size = len(candidates)
        chosen, best_key = 0, -1
        for j in range(size):
            aid = candidates[(turn + j) % size].id
            key = 2 * tally[aid] + (aid in on_service)
            if best_key < 0 or key < best_key:
                chosen, best_key = aid, key
        turn += 1
        tally[chosen] += 1
        on_service.append(chosen)
        contacts[i] = c._replace(auditor_id=chosen)
    return uncovered
