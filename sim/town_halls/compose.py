"""Which writer writes each planned reaction: the one table to extend with a new kind of mail.

compose(writer, planned) --planned.kind-->
    answer, redirect           human.answer, human.redirect        (an agent writes)
    acknowledgement            human.acknowledgement, or automatic.acknowledgement when
                               ``planned.automatic`` (the service's auto-responder)
    out_of_office              automatic.out_of_office             (a machine answers)
    bounce                     bounces.bounce                      (the persona's provider)
"""

from __future__ import annotations

from collections.abc import Callable

from sim.profiles import PlannedReaction
from sim.town_halls import automatic, bounces, human
from sim.town_halls.writer import Writer, Written

WriteFunction = Callable[[Writer, PlannedReaction], Written]

# kind -> (its writer when a person writes, its writer when a machine does)
WRITERS: dict[str, tuple[WriteFunction, WriteFunction]] = {
    "answer": (human.answer, human.answer),
    "redirect": (human.redirect, human.redirect),
    "acknowledgement": (human.acknowledgement, automatic.acknowledgement),
    "out_of_office": (automatic.out_of_office, automatic.out_of_office),
    "bounce": (bounces.bounce, bounces.bounce),
}


def compose(writer: Writer, planned: PlannedReaction) -> Written:
    by_hand, by_machine = WRITERS[planned.kind]
    return (by_machine if planned.automatic else by_hand)(writer, planned)
