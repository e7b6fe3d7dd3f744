"""Why a plan cannot hold, in the reader's language (``cli.plan.infeasible``, ``…refused``).

A rule of the collectivities (the daily cap, the lockout per service, both with the opening
hours) or of the mix is said in one sentence from the planner's ``InfeasiblePlan`` code and
numbers (``rule_message``), e.g.

    Impossible de planifier la campagne moselle : la règle « au plus 1 contact par
    collectivité et par jour » ne tient pas : la collectivité Morhange (57463) a besoin de
    16 jours ouvrés, la période en compte 12 (il en manque 4).

The auditors' days are said with their numbers per département (``refusal_message``):

``refusal_message(PlanRefused, Words)``: one line per département and channel short of
auditor-days, most contacts left without a place first (at most ``SHOWN``, then how many
more), e.g.

    Impossible de planifier la campagne moselle : les journées des enquêteurs ne suffisent pas.
    Moselle (57) : il faudrait 120 journées d’enquêteur pour 720 visites (6 par jour) ;
    12 sont disponibles sur 40 dans la période (28 déjà prises dans d’autres départements).
    600 visites restent sans place.

"Available" counts the days of the auditors covering the département that are not
unavailable nor already spent in another département.
"""

from __future__ import annotations

from scenarios import geography
from scenarios.domain import Channel
from scenarios.plan_model import FieldShortfall
from scenarios.typography import french
from temoin.cli.words import Words
from temoin.planning import PlanRefused

SHOWN = 5
_KEY = "cli.plan.refused"


def refusal_message(refused: PlanRefused, w: Words) -> str:
    if not refused.shortfalls:
        return rule_message(refused, w)
    lines = [w(f"{_KEY}.head", name=refused.name)]
    worst = sorted(refused.shortfalls, key=lambda s: (-s.left_out, s.departement, s.channel))
    lines += [_line(s, refused, w) for s in worst[:SHOWN]]
    more = len(refused.shortfalls) - SHOWN
    if more > 0:
        lines.append(_count(w, "more", more))
    return "\n".join(lines)


def _line(s: FieldShortfall, refused: PlanRefused, w: Words) -> str:
    channel = "visit" if s.channel is Channel.VISIT else "phone"
    rules = refused.rules
    per_day = (
        rules.visits_per_auditor_day
        if s.channel is Channel.VISIT
        else (rules.calls_per_auditor_day)
    )
    name = geography.area(s.departement).name if geography.is_known(s.departement) else ""
    if w.locale == "fr":
        name = french(name)  # the official list writes Côte-d'Or with a straight apostrophe
    area = w(f"{_KEY}.area", name=name, code=s.departement) if name else s.departement
    free = max(0, s.days_available - s.days_elsewhere)
    free_text = w(f"{_KEY}.free_none") if free == 0 else _count(w, "free", free)
    if s.days_elsewhere:
        taken = _count(w, "taken", s.days_elsewhere)
        available = w(
            f"{_KEY}.available_taken", free=free_text, days=w.f.number(s.days_available),
            taken=taken,
        )  # fmt: skip
    else:
        available = w(f"{_KEY}.available", free=free_text)
    return w(
        f"{_KEY}.line",
        area=area,
        needed=_count(w, "days", s.days_needed),
        contacts=_count(w, channel, s.contacts),
        per_day=w.f.number(per_day),
        available=available,
        left=_count(w, f"left_{channel}", s.left_out),
    )


def _count(w: Words, key: str, n: int, base: str = _KEY) -> str:
    """``KEY_one`` for 0 and 1 in French, for 1 only in English (``KEY_many`` else)."""
    one = n == 1 or (n == 0 and w.locale == "fr")
    return w(f"{base}.{key}_{'one' if one else 'many'}", n=w.f.number(n))


_RULE = "cli.plan.infeasible"


def rule_message(refused: PlanRefused, w: Words) -> str:
    """A collectivity's rule (or the mix) that cannot hold, from the planner's numbers."""
    problem = refused.problem
    if problem is None or not problem.code:  # a case the planner gave no code: its words
        return str(refused)
    p = problem.params

    def count(key: str, param: str) -> str:
        return _count(w, key, int(p[param]), _RULE)

    def rule(key: str, param: str) -> str:
        return _count(w, f"rule_{key}", int(p[param]), _RULE)

    code = problem.code
    who = w(f"{_RULE}.who", name=p.get("name", ""), code=p.get("code", ""))
    if w.locale == "fr":
        who = french(who)  # a name from the directory may hold a straight apostrophe
    if code == "cap":
        reason = w(
            f"{_RULE}.cap", rule=rule("cap", "per_day"), who=who, need=count("days", "need"),
            have=count("left" if p["left"] else "days", "have"), short=w.f.number(int(p["short"])),
        )  # fmt: skip
    elif code == "lockout":
        kind = str(p["kind"])
        kind_key = f"national.service_kind.{kind}"
        reason = w(
            f"{_RULE}.lockout", rule=rule("lockout", "lockout"),
            kind=w(kind_key) if w.t.has(kind_key) else kind, service=p["service"], who=who,
            need=count("days", "need"), contacts=count("contacts", "total"),
            have=count("usable", "have"), short=w.f.number(int(p["short"])),
        )  # fmt: skip
    elif code == "fitting":
        reason = w(
            f"{_RULE}.fitting_exhausted" if p["exhausted"] else f"{_RULE}.fitting",
            cap=rule("cap", "per_day"), lockout=rule("lockout", "lockout"), who=who,
            contacts=count("contacts", "contacts"), days=count("days", "days"),
        )  # fmt: skip
    elif code == "no_persona":
        reason = w(f"{_RULE}.no_persona", channel=w.channel(str(p["channel"])))
    else:
        reason = w(f"{_RULE}.{code}")
    lines = [w(f"{_RULE}.head", name=refused.name, reason=reason)]
    more = int(p.get("more", 0))
    if more:
        lines.append(_count(w, "more", more, _RULE))
    return "\n".join(lines)
