"""Who gets what: the scenario and wording of each contact (step 1 of
``scenarios.planning.plan``), then its persona (step 4; auditors: ``scenarios.field_plan``).

    demand:  ScenarioChooser.candidates(kind, quota) -> choose(service) -> wording(collectivity)
    people:  [PlannedContact] --assign_personas--> persona_id (emails, letters)

``ScenarioChooser`` starts from the kept contacts' counts: different scenarios per service
first, then the one whose count/weight is lowest; the least-used wording, avoiding one the
collectivity already receives for that scenario. ``assign_personas`` goes through the
contacts in the order ``plan()`` gives (service by service, services shuffled) and takes the
least-used persona of the channel; ties: one not yet on this service, then not on this
collectivity, then round the pool. It draws from the ``random.Random`` it is given, so the
plan stays a function of the seed.
"""

from __future__ import annotations

import random
from collections.abc import Sequence

from scenarios.domain import Channel
from scenarios.plan_model import (
    CHANNEL_ORDER,
    WRITTEN,
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

    def done(self, svc: ServiceInput, last_of_collectivity: bool) -> None:
        """Forget what only a service (and its collectivity, after its last service) still
        needed: the demand step goes collectivity by collectivity, and a million-contact
        campaign would otherwise keep a list per service and per collectivity and scenario."""
        self.used_by_service.pop(svc.id, None)
        if last_of_collectivity:
            for sid in self.by_id:
                self.wordings_by_coll.pop((svc.collectivity_id, sid), None)

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
            raise InfeasiblePlan(
                f"no persona writes {c.channel}s, and the mix asks for some",
                code="no_persona",
                params={"channel": c.channel.value},
            )
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
