"""Aggregation of contact facts into cells (``reports.aggregate``), checked by hand.

z = Φ⁻¹(0.975) = 1.959964, z² = 3.841459 throughout.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from reports.stats import (
    COLUMNS,
    TIMING_ACK,
    TIMING_ANSWER,
    TIMING_PICKUP,
    Cell,
    ContactFacts,
    aggregate,
    with_delays,
)

PARIS = ZoneInfo("Europe/Paris")


def paris(month: int, day: int, hour: int, minute: int = 0, second: int = 0) -> datetime:
    return datetime(2025, month, day, hour, minute, second, tzinfo=PARIS).astimezone(UTC)


# Fixture: 15 contacts, all in département 75, two collectivities.
#   A = Paris (75056), 2 113 705 inhabitants -> "50 000 hab. et plus"
#   B = Petiteville (75999), 1 500 inhabitants -> "moins de 2 000 hab."
# Written requests sent Monday 3 March 2025 09:00 Paris, campaign closed Monday 17 March
# 18:00 (censoring: 345 h, 10 business days). Targets: answer 5 business days (deadline
# end of Monday 10 March), acknowledgement 2 (emails; deadline end of Wednesday 5 March).
#
#  id  coll ch      ack          answer            ans h/bd  ack h/bd     ans≤5 ack≤2 grid
#  E1  A    email   Mon 09:00:30 Tue 4 11:00       26 / 1    1/120 / 0    T     T     complete T(2)
#  E2  A    email   -            Thu 6 09:00       72 / 3    72 / 3       T     F     complete F(2)
#  E3  A    email   Mon 09:01    Wed 12 09:00      216 / 7   1/60 / 0     F     T     complete T(2)
#  E4  A    email   Mon 10:00    -  (cens.)        345c/10c  1 / 0        F     T     complete None
#  E5  B    email   -            -  (cens.)        345c/10c  345c/10c     F     F
#  E6  B    email   undeliverable
#  E7  B    email   never sent
#  E8  B    email   -            Mon 3 17:00       8 / 0     8 / 0        T     T
#  L1  A    letter  -            Mon 10 09:00      168 / 5   168 / 5      T     -
#  L2  B    letter  -            -  (cens.)        345c/10c  345c/10c     F     -
#  P1  A    phone   picked up, 3 rings, 12 s, 1 transfer, hold 30 s;  greeting T, named F
#  P2  A    phone   picked up, 6 rings, 25 s, 0 transfer, hold 0 s;   greeting T, named T
#  P3  B    phone   not picked up;                                     greeting None
#  V1  A    visit   waiting 300 s, service 600 s;  greeting T(1), accessible F(2)
#  V2  B    visit   waiting 900 s, service -;      greeting F(1), accessible T(2)

SENT = paris(3, 3, 9)
CLOSE = paris(3, 17, 18)
COLL = {
    "A": ("75056", "Paris", 2_113_705),
    "B": ("75999", "Petiteville", 1_500),
}


def fact(cid: int, coll: str, channel: str, **kw: object) -> ContactFacts:
    code, name, population = COLL[coll]
    written = channel in ("email", "letter")
    base: dict[str, object] = {
        "channel": channel,
        "scenario_id": f"{channel}-demande",
        "service_kind": "accueil_mairie",
        "collectivity_code": code,
        "collectivity_name": name,
        "collectivity_kind": "commune",
        "population": population,
        "departement": "75",
        "region": "11",
        "status": "done",
        "planned_at": SENT - timedelta(days=7),
        "contact_id": cid,
        "sent_at": SENT if written else paris(3, 3, 10),
        "closed_at": CLOSE if written else None,
        "answer_target_days": 5 if written else None,
        "ack_target_days": 2 if channel == "email" else None,
    }
    base.update(kw)
    return with_delays(ContactFacts(**base))  # type: ignore[arg-type]


def fixture() -> list[ContactFacts]:
    return [
        fact(1, "A", "email", first_ack_at=paris(3, 3, 9, 0, 30),
             first_answer_at=paris(3, 4, 11), grid=(("complete", 2.0, True),)),
        fact(2, "A", "email", first_answer_at=paris(3, 6, 9), grid=(("complete", 2.0, False),)),
        fact(3, "A", "email", first_ack_at=paris(3, 3, 9, 1),
             first_answer_at=paris(3, 12, 9), grid=(("complete", 2.0, True),)),
        fact(4, "A", "email", first_ack_at=paris(3, 3, 10), grid=(("complete", 2.0, None),)),
        fact(5, "B", "email"),
        fact(6, "B", "email", undeliverable=True, status="undeliverable"),
        fact(7, "B", "email", sent_at=None, closed_at=None, status="cancelled"),
        fact(8, "B", "email", first_answer_at=paris(3, 3, 17)),
        fact(9, "A", "letter", first_answer_at=paris(3, 10, 9)),
        fact(10, "B", "letter"),
        fact(11, "A", "phone", picked_up=True, rings=3, seconds_to_pickup=12.0, transfers=1,
             hold_seconds=30.0, grid=(("greeting", 1.0, True), ("named", 1.0, False))),
        fact(12, "A", "phone", picked_up=True, rings=6, seconds_to_pickup=25.0, transfers=0,
             hold_seconds=0.0, grid=(("greeting", 1.0, True), ("named", 1.0, True))),
        fact(13, "B", "phone", picked_up=False, grid=(("greeting", 1.0, None),)),
        fact(14, "A", "visit", waiting_seconds=300.0, service_seconds=600.0,
             grid=(("greeting", 1.0, True), ("accessible", 2.0, False))),
        fact(15, "B", "visit", waiting_seconds=900.0,
             grid=(("greeting", 1.0, False), ("accessible", 2.0, True))),
    ]  # fmt: skip


def test_fixture_delays_by_hand() -> None:
    facts = {f.contact_id: f for f in fixture()}
    answers = {i: (facts[i].answer_seconds, facts[i].answer_business_days) for i in (1, 2, 3, 8, 9)}
    assert answers == {
        1: (26 * 3600.0, 1),  # Mon 09:00 -> Tue 11:00
        2: (72 * 3600.0, 3),  # -> Thu 09:00
        3: (216 * 3600.0, 7),  # -> Wed 12 09:00: Tue-Fri (4) + Mon-Wed (3)
        8: (8 * 3600.0, 0),  # -> Mon 17:00, same day
        9: (168 * 3600.0, 5),  # -> Mon 10 09:00
    }
    assert (facts[4].ack_seconds, facts[4].censor_seconds) == (3600.0, 345 * 3600.0)
    assert facts[2].acknowledged_within_target is False  # Thursday > end of Wednesday
    assert facts[9].acknowledged_within_target is None  # letters: no ack target


def near(
    actual: tuple[float | None, ...], expected: tuple[float | None, ...], tol: float = 1e-6
) -> bool:
    """Element-wise |a - e| <= tol (None only matches None)."""
    return len(actual) == len(expected) and all(
        (a is None and e is None) or (a is not None and e is not None and abs(a - e) <= tol)
        for a, e in zip(actual, expected, strict=True)
    )


def one(cells: list[Cell]) -> Cell:
    assert len(cells) == 1
    return cells[0]


def test_aggregate_overall_by_hand() -> None:
    cell = one(aggregate(fixture()))
    assert cell.keys == ()
    # counts: 15 planned, E7 never sent -> 14 sent, E6 bounced -> 13 delivered;
    # written delivered: E1-E5, E8, L1, L2 = 8; nothing pending (all closed)
    assert (cell.planned, cell.sent, cell.undeliverable, cell.delivered) == (15, 14, 1, 13)
    assert (cell.written_delivered, cell.pending) == (8, 0)
    # answered E1 E2 E3 E8 L1 = 5/8; Wilson: z²/n = .480182,
    # centre = (.625 + .240091)/1.480182 = .584449,
    # half = 1.959964/1.480182 * sqrt(.625*.375/8 + 3.841459/256) = .278707
    r = cell.response
    assert (r.successes, r.n, r.rate) == (5, 8, 0.625)
    assert near((r.low, r.high), (0.305742, 0.863156))
    # acknowledged (ack or answer): E1 E2 E3 E4 E8 L1 = 6/8; centre (.75 + .240091)/1.480182
    # = .668898, half = 1.324138 * sqrt(.75*.25/8 + .015006) = .259623
    a = cell.acknowledgement
    assert (a.successes, a.n) == (6, 8)
    assert near((a.low, a.high), (0.409275, 0.928521))
    # within 5 business days: E1 E2 E8 L1 of 8 -> centre .5, half .284784
    w = cell.answered_within_target
    assert (w.successes, w.n) == (4, 8)
    assert near((w.low, w.high), (0.215216, 0.784784))
    # ack within 2 (emails): E1 E3 E4 E8 of E1-E5, E8 -> 4/6; z²/n = .640243,
    # centre = (.666667 + .320122)/1.640243 = .601611, half = 1.194921 * sqrt(.037037 + .026674)
    # = .301618
    k = cell.acknowledged_within_target
    assert (k.successes, k.n) == (4, 6)
    assert near((k.low, k.high), (0.299993, 0.903229))

    # answer delays, observed [8, 26, 72, 168, 216] h: median 72, p75 (h = 3) 168,
    # p90 (h = 3.6) 168 + .6*48 = 196.8; business days [0, 1, 3, 5, 7]: 3, 5, 5 + .6*2 = 6.2
    ah, ab = cell.answer_hours, cell.answer_bdays
    assert (ah.observed, ah.censored) == (5, 3)
    assert near((ah.median, ah.p75, ah.p90), (72, 168, 196.8))
    assert near((ab.median, ab.p75, ab.p90), (3, 5, 6.2))
    # KM, n = 8, censored 3 at 345 h: S = 7/8, 6/8, 5/8, 4/8 at 8, 26, 72, 168 h -> median
    # 168 (S = .5 exactly; R would average with the next event time, we take the infimum).
    # lower band at 8 h: .387 <= .5 -> low = 8; upper band .981 .931 .861 .775 .674 stays
    # above .5 -> high not reached.
    assert (ah.km.median, ah.km.low, ah.km.high) == (168, 8, None)
    assert (ab.km.median, ab.km.low, ab.km.high) == (5, 0, None)
    # ack delays, observed [1/120, 1/60, 1, 8, 72, 168] h: median (h = 2.5) 1 + .5*7 = 4.5,
    # p75 (h = 3.75) 8 + .75*64 = 56, p90 (h = 4.5) 72 + .5*96 = 120; censored E5 L2.
    kh, kb = cell.ack_hours, cell.ack_bdays
    assert (kh.observed, kh.censored) == (6, 2)
    assert near((kh.median, kh.p75, kh.p90), (4.5, 56, 120))
    # KM: 7/8, 6/8, 5/8, 4/8 at 1/120, 1/60, 1, 8 h -> median 8; low 1/120; upper band
    # ends at .558 (t = 168) -> not reached
    assert near((kh.km.median, kh.km.low, kh.km.high), (8, 1 / 120, None))
    # business days [0, 0, 0, 0, 3, 5]: median 0, p75 (h = 3.75) 0 + .75*3 = 2.25,
    # p90 (h = 4.5) 3 + .5*2 = 4; KM: 4 events at 0 of 8 -> S = .5 -> median 0
    assert (kb.median, kb.p75, kb.p90) == (0, 2.25, 4)
    assert (kb.km.median, kb.km.low, kb.km.high) == (0, 0, None)

    # phone: 3 calls, 2 picked up (Wilson 2/3: z²/n = 1.280486, centre .573084,
    # half .365424); rings [3, 6] -> 4.5; seconds [12, 25] -> 18.5; transfers (1 + 0)/2;
    # hold [30, 0] -> 15
    ph = cell.phone
    assert (ph.calls, ph.picked_up.successes, ph.picked_up.n) == (3, 2, 3)
    assert ph.picked_up.low == pytest.approx(0.207660, abs=1e-6)
    assert ph.picked_up.high == pytest.approx(0.938508, abs=1e-6)
    assert (ph.rings_median, ph.seconds_to_pickup_median) == (4.5, 18.5)
    assert (ph.transfers_mean, ph.hold_seconds_median) == (0.5, 15)
    # visits: waiting [300, 900] -> median 600, p90 300 + .9*600 = 840; service [600]
    v = cell.visit
    assert (v.visits, v.waiting_seconds_median, v.waiting_seconds_p90) == (2, 600, 840)
    assert v.service_seconds_median == 600

    crit = {c.criterion_id: (c.met.successes, c.met.n) for c in cell.criteria}
    assert crit == {
        TIMING_ANSWER: (4, 8),
        TIMING_ACK: (4, 6),
        TIMING_PICKUP: (1, 3),  # P1 3 rings yes; P2 6 rings no; P3 not picked up no
        "complete": (2, 3),  # E1 E3 of E1-E3 (E4 not assessed)
        "greeting": (3, 4),  # P1 P2 V1 of P1 P2 V1 V2 (P3 not assessed)
        "named": (1, 2),
        "accessible": (1, 2),
    }

    # scores, weights: answer 2, ack 1, pick-up 1, grid as given
    # email: E1 (2+1+2)/5, E2 (2+0+0)/5, E3 (0+1+2)/5, E4 (0+1)/3, E5 0/3, E8 (2+1)/3
    #   = 14/24 -> 58.3333 (6 contacts)
    # letter: L1 2/2, L2 0/2 -> 50 (2); phone: P1 (1+1+0)/3, P2 (0+1+1)/3, P3 0/1 -> 4/7
    #   = 57.142857 (3); visit: V1 1/3, V2 2/3 -> 3/6 = 50 (2)
    # overall = (6*1400/24 + 2*50 + 3*400/7 + 2*50)/13 = (350 + 100 + 1200/7 + 100)/13
    #   = 5050/91 = 55.494505
    scores = dict(cell.channel_scores)
    assert scores == {
        "email": pytest.approx(1400 / 24),
        "letter": 50.0,
        "phone": pytest.approx(400 / 7),
        "visit": 50.0,
    }
    assert cell.score == pytest.approx(5050 / 91)
    assert cell.small is False and cell.rank == 1


def test_aggregate_by_channel_small_cells_have_no_rank() -> None:
    cells = aggregate(fixture(), by=("channel",))
    assert [c.key("channel") for c in cells] == ["email", "letter", "phone", "visit"]
    # delivered: email 6 (E1-E5, E8), letter 2, phone 3, visit 2; min_cell 5
    assert [c.delivered for c in cells] == [6, 2, 3, 2]
    assert [c.small for c in cells] == [False, True, True, True]
    assert [c.rank for c in cells] == [1, None, None, None]
    email = cells[0]
    assert (email.planned, email.sent, email.undeliverable) == (8, 7, 1)
    assert (email.response.successes, email.response.n) == (4, 6)  # E1 E2 E3 E8
    assert email.score == pytest.approx(1400 / 24)
    assert email.phone.calls == 0 and email.phone.picked_up.rate is None
    # min_cell 2: all ranked; scores 58.33, 50, 57.14, 50 -> 1, 3, 2, 3 (ties share)
    ranked = aggregate(fixture(), by=("channel",), min_cell=2)
    assert [c.rank for c in ranked] == [1, 3, 2, 3]
    # ranking on another column, lower is better: KM median answer hours
    # email: [8, 26, 72, 216] answered + E4 E5 censored (n = 6): S 5/6, 4/6, 3/6 -> 72;
    # letter: [168] + 1 censored: S = 1/2 at 168 -> 168; phone and visit: no written -> None
    by_delay = aggregate(
        fixture(), by=("channel",), min_cell=2, rank_by="answer_hours_km_median",
        higher_is_better=False,
    )  # fmt: skip
    assert [c.answer_hours.km.median for c in by_delay] == [72, 168, None, None]
    assert [c.rank for c in by_delay] == [1, 2, None, None]


def test_aggregate_by_stratum_sorted_by_population() -> None:
    cells = aggregate(fixture(), by=("stratum",))
    assert [c.key("stratum") for c in cells] == ["moins de 2 000 hab.", "50 000 hab. et plus"]
    small_town, city = cells
    # B: E5 E6 E7 E8 L2 P3 V2 planned 7, sent 6 (E7), delivered 5 (E6 bounced)
    assert (small_town.planned, small_town.sent, small_town.delivered) == (7, 6, 5)
    assert (city.planned, city.delivered) == (8, 8)
    # B: email E5 0/3 + E8 3/3 -> 50 (2 contacts); letter L2 0/2 -> 0 (1); phone P3 0/1
    #   -> 0 (1); visit V2 2/3 -> 66.667 (1); overall (2*50 + 0 + 0 + 200/3)/5 = 100/3
    assert small_town.score == pytest.approx(100 / 3)
    # A: email (5 + 2 + 3 + 1)/(5 + 5 + 5 + 3) = 11/18 (4); letter 100 (1); phone 4/6 (2);
    #   visit 1/3 (1): (4*1100/18 + 100 + 2*200/3 + 100/3)/8 = (4600/9)/8 = 575/9
    assert city.score == pytest.approx(575 / 9)
    assert (city.rank, small_town.rank) == (1, 2)


def test_aggregate_by_collectivity_rows() -> None:
    cells = aggregate(fixture(), by=("collectivity", "channel"))
    assert [(c.key("collectivity"), c.key("channel")) for c in cells] == [
        ("75056", "email"), ("75056", "letter"), ("75056", "phone"), ("75056", "visit"),
        ("75999", "email"), ("75999", "letter"), ("75999", "phone"), ("75999", "visit"),
    ]  # fmt: skip
    row = cells[0].to_row()
    assert list(row) == list(COLUMNS)
    assert row["collectivity"] == "75056" and row["collectivity_name"] == "Paris"
    assert row["channel"] == "email" and row["stratum"] is None
    # Paris emails E1-E4: answered E1 E2 E3 = 3/4
    assert (row["answered"], row["written_delivered"], row["response_rate"]) == (3, 4, 0.75)
    assert row["small"] is True and row["rank"] is None
    json.dumps(row)  # plain values only
    overall = aggregate(fixture())[0].to_row()
    assert overall["collectivity_name"] is None
    assert overall["answer_hours_km_median"] == 168
    assert overall["answer_hours_km_median_high"] is None
    criteria = aggregate(fixture())[0].criterion_rows()
    greeting = next(r for r in criteria if r["criterion_id"] == "greeting")
    assert (greeting["assessed"], greeting["met"], greeting["rate"]) == (4, 3, 0.75)


def test_aggregate_pending_and_errors() -> None:
    # open campaign: no closed_at -> no censoring time, counted as pending
    open_fact = fact(1, "A", "email", closed_at=None)
    cell = one(aggregate([open_fact]))
    assert (cell.pending, cell.answer_hours.censored, cell.response.rate) == (1, 0, 0.0)
    assert cell.answered_within_target.n == 0 and cell.small is True and cell.rank is None
    # delays not filled
    raw = ContactFacts(
        channel="email", scenario_id="s", service_kind="ccas", collectivity_code="1",
        collectivity_name="X", collectivity_kind="commune", population=10, departement="75",
        region=None, status="answered", planned_at=SENT, sent_at=SENT,
        first_answer_at=SENT + timedelta(hours=1),
    )  # fmt: skip
    with pytest.raises(ValueError, match="with_delays"):
        aggregate([raw])
    with pytest.raises(ValueError, match="grouping key"):
        aggregate([], by=("colour",))
    with pytest.raises(ValueError):
        aggregate([], rank_by="nope")
    with pytest.raises(ValueError, match="channel"):
        aggregate([dataclasses.replace(open_fact, channel="fax")])
    with pytest.raises(ValueError, match="negative weight"):
        aggregate([dataclasses.replace(open_fact, grid=(("x", -1.0, True),))])
    assert aggregate([]) == []


def test_aggregate_streams_a_generator() -> None:
    # 2 000 contacts from a generator, read once: every 4th answered after 10 h, rest
    # censored at 345 h -> response 500/2000, KM S = 1 - 500/2000 = .75 > .5: not reached
    def gen() -> Iterator[ContactFacts]:
        for i in range(2000):
            answer = paris(3, 3, 19) if i % 4 == 0 else None
            yield fact(i, "A" if i % 2 else "B", "email", first_answer_at=answer)

    cells = aggregate(gen(), by=("stratum",))
    assert sum(c.planned for c in cells) == 2000
    overall = one(aggregate(gen()))
    assert (overall.response.successes, overall.response.n) == (500, 2000)
    assert overall.answer_hours.km.median is None
    assert overall.answer_hours.median == 10.0


def test_large_cells_take_the_same_km_median_as_small_ones() -> None:
    """From a few hundred samples the KM median is computed over the distinct times (numpy):
    the same numbers as the sample by sample computation, ties and censoring included."""
    import random

    from reports.survival import km_median

    rnd = random.Random(11)
    facts = []
    for cid in range(900):
        answered = rnd.random() < 0.7
        at = SENT + timedelta(hours=rnd.choice((3, 20, 26, 49, 50, 75, 120, 200)),
                              minutes=rnd.randrange(0, 60, 30))  # fmt: skip
        facts.append(fact(cid, "AB"[cid % 2], "email", first_answer_at=at if answered else None))
    [cell] = aggregate(facts)
    assert cell.answer_hours.observed + cell.answer_hours.censored >= 256
    for delays in (cell.answer_hours, cell.answer_bdays, cell.ack_hours):
        assert delays.km == km_median(delays.event_times, delays.censored_times)
    assert cell.answer_hours.km.median is not None
