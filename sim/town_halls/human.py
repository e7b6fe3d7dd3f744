"""The messages an agent writes by hand: answers, redirects and short acknowledgements.

    answer: greeting, an opening, one sentence per expected element the profile chose (from
        the corpus of ``french``, else a generic sentence that contains one of the element's
        patterns), a final line, the closing; rewritten (up to 60 times, a shorter signature
        after 40) until the content check finds exactly the chosen elements in the text the
        agent wrote, above the quoted request
    redirect: « this is not our service, write to … » (an address at the same domain when
        there is one); the truth records any element it happens to give
    acknowledgement: « bien reçu », by the third agent, sometimes filed as spam

A reply from another agent (``planned.other_agent``) comes from that agent's own address.
"""

from __future__ import annotations

import logging

from sim.decisions import PlannedReaction
from sim.town_halls.french import (
    DEFAULT_REDIRECTS,
    FINAL_LINES,
    HUMAN_ACKS,
    NOTHING_TO_SAY,
    OPENINGS,
    OTHER_AGENT_OPENINGS,
    REDIRECT_BODIES,
    REDIRECTS,
    SENTENCES,
    short_date,
    to_phrase,
)
from sim.town_halls.voices import Agent
from sim.town_halls.writer import Writer, Written

log = logging.getLogger(__name__)


def answer_text(
    writer: Writer, planned: PlannedReaction, agent: Agent
) -> tuple[list[str], tuple[str, ...]]:
    """The agent's own lines for an answer, and the expected elements they give: rewritten
    until the content check finds exactly the elements the profile chose (see the module)."""
    voice = writer.voice
    elements = writer.scenario.expected_elements if writer.scenario else ()
    chosen = set(planned.included)
    text: list[str] = []
    found: tuple[str, ...] = ()
    for attempt in range(60):
        text = _answer_lines(writer, planned, agent, full_signature=attempt < 40)
        own = "\n".join(text)
        found = tuple(e.id for e in elements if e.found_in(own))
        if set(found) == chosen:
            break
    else:
        log.warning(
            "answer of %s to %s: wrote %s instead of %s",
            voice.service.address,
            writer.request.message_id,
            found,
            sorted(chosen),
        )
    return text, found


def answer(writer: Writer, planned: PlannedReaction) -> Written:
    voice = writer.voice
    elements = writer.scenario.expected_elements if writer.scenario else ()
    agent = voice.agents[1 if planned.other_agent else 0]
    text, found = answer_text(writer, planned, agent)
    omitted = tuple(e.id for e in elements if e.id not in found)
    if planned.other_agent:
        sender_name, sender = agent.name, agent.address(voice.domain)
    else:
        sender_name = f"{voice.service_name} - {voice.town_hall}"
        sender = voice.service.address
    subject = writer.reply_subject(planned.threaded, writer.topic()[0])
    if planned.threaded:
        text += writer.quote()
    return writer.finish(
        text,
        sender_name=sender_name,
        sender=sender,
        to=writer.reply_address() if planned.threaded else writer.request.persona,
        subject=subject,
        planned=planned,
        style=voice.client,
        included=found,
        omitted=omitted,
    )


def _answer_lines(
    writer: Writer, planned: PlannedReaction, agent: Agent, *, full_signature: bool
) -> list[str]:
    rng = writer.rng
    lines = [writer.greeting(), ""]
    topic = writer.topic()[1]
    opening = rng.choice(OTHER_AGENT_OPENINGS) if planned.other_agent else rng.choice(OPENINGS)
    opening = opening.format(
        sent_on=short_date(writer.sent_on()), service=writer.voice.service.address, topic=topic
    )
    if opening:
        lines += [opening, ""]
    sentences = [_sentence(writer, element_id) for element_id in planned.included]
    if not sentences:
        sentences = [rng.choice(NOTHING_TO_SAY)]
    while sentences:
        take = rng.randint(1, 2)
        lines += [" ".join(sentences[:take]), ""]
        sentences = sentences[take:]
    final = rng.choice(FINAL_LINES)
    if final:
        lines += [final, ""]
    return lines + writer.closing(agent, full=full_signature)


def _sentence(writer: Writer, element_id: str) -> str:
    scenario = writer.scenario
    assert scenario is not None
    bank = SENTENCES.get(scenario.id, {}).get(element_id)
    if bank:
        return writer.rng.choice(bank).format(phone=writer.voice.phone)
    element = next(e for e in scenario.expected_elements if e.id == element_id)
    label = element.label[0].lower() + element.label[1:]
    sentence = f"Concernant votre question ({label}), tous les détails figurent sur le site "
    sentence += "internet de la commune."
    if not element.found_in(sentence):
        sentence += f" Retenez simplement : {writer.rng.choice(element.patterns).rstrip('*')}."
    return sentence


def redirect(writer: Writer, planned: PlannedReaction) -> Written:
    voice, rng = writer.voice, writer.rng
    scenario_id = writer.scenario.id if writer.scenario else ""
    local = voice.service.address.split("@", 1)[0]
    targets = [t for t in REDIRECTS.get(scenario_id, DEFAULT_REDIRECTS) if t[1] != local]
    target, target_local = rng.choice(targets or list(DEFAULT_REDIRECTS))
    at = f" ({target_local}@{voice.domain})" if target_local else ""
    agent = voice.agents[1 if planned.other_agent else 0]
    text = [
        writer.greeting(),
        "",
        rng.choice(REDIRECT_BODIES).format(to_target=to_phrase(target), at=at),
        "",
        *writer.closing(agent),
    ]
    own = "\n".join(text)
    elements = writer.scenario.expected_elements if writer.scenario else ()
    included = tuple(e.id for e in elements if e.found_in(own))
    if planned.threaded:
        text += writer.quote()
    if planned.other_agent:
        sender_name, sender = agent.name, agent.address(voice.domain)
    else:
        sender_name, sender = voice.service_name, voice.service.address
    return writer.finish(
        text,
        sender_name=sender_name,
        sender=sender,
        to=writer.reply_address(),
        subject=writer.reply_subject(planned.threaded, writer.topic()[0]),
        planned=planned,
        style=voice.client,
        included=included,
        omitted=tuple(e.id for e in elements if e.id not in included),
    )


def acknowledgement(writer: Writer, planned: PlannedReaction) -> Written:
    """A short receipt written by an agent (an automatic one is in ``automatic``)."""
    agent = writer.voice.agents[2]
    text = [writer.greeting(), "", writer.rng.choice(HUMAN_ACKS), "",
            *writer.closing(agent, full=False)]  # fmt: skip
    if planned.threaded:
        text += writer.quote()
    return writer.finish(
        text,
        sender_name=writer.voice.service_name,
        sender=writer.voice.service.address,
        to=writer.reply_address(),
        subject=writer.reply_subject(planned.threaded, writer.topic()[0]),
        planned=planned,
        style=writer.voice.client,
    )
