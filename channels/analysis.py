"""One raw message understood: parsed, classified, with a spam flag seen through.

``analyse`` never raises: what is not an email at all comes back with a quarantine reason
(the raw bytes are already stored), and a parser or classifier bug becomes a reason too, so a
message is never lost. The tracker runs it in a thread (CPU work, no I/O).

A provider that files a reply as spam may flag it (``X-Spam-Flag``, « [SPAM] »); the flag is
kept in evidence and a message that replies in a thread (In-Reply-To, References) is classified
as if unflagged, and unsure: a reply filed as spam still counts, once a coordinator or the
tracker's thread match vouches for it. The flag stands for mail that replies to nothing (the
filter's opinion is then all there is) and for a score far above the filter's threshold
(twice the ``required`` score of SpamAssassin's ``X-Spam-Status``).
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Sequence
from dataclasses import dataclass

from channels.classify import Classification, classify
from channels.mime import ParsedMessage, UnparsableMessage, parse_message


@dataclass(frozen=True, slots=True)
class Analysis:
    parsed: ParsedMessage | None
    classification: Classification | None
    quarantine_reason: str | None = None
    spam_flagged: bool = False


_SPAM_SUBJECT = re.compile(r"^\s*(\[spam\]|\*+\s*spam\s*\*+)\s*", re.IGNORECASE)
_SPAM_HEADERS = frozenset({"x-spam-flag", "x-spam-status"})


def analyse(raw: bytes) -> Analysis:
    """Parse and classify one message; never raises."""
    try:
        parsed = parse_message(raw)
    except UnparsableMessage as exc:
        return Analysis(None, None, exc.reason)
    except Exception as exc:  # a parser bug must not lose the message
        return Analysis(None, None, f"parser crashed: {type(exc).__name__}: {exc}"[:500])
    try:
        result = classify(parsed)
        flagged = (
            result.kind == "other"
            and bool(result.evidence)
            and ("spam" in result.evidence[0].lower())
        )
        if flagged and _misfiled_reply(parsed):
            unflagged = dataclasses.replace(
                parsed,
                headers=tuple(h for h in parsed.headers if h[0].lower() not in _SPAM_HEADERS),
                subject=_SPAM_SUBJECT.sub("", parsed.subject),
            )
            again = classify(unflagged)
            result = Classification(
                again.kind, (*result.evidence, *again.evidence), again.bounce, unsure=True
            )
        return Analysis(parsed, result, spam_flagged=flagged)
    except Exception as exc:
        return Analysis(parsed, None, f"classifier crashed: {type(exc).__name__}: {exc}"[:500])


_SCORE = re.compile(r"\b(?:score|hits)=(-?[\d.]+)(?:.*?\brequired=(-?[\d.]+))?", re.IGNORECASE)


def _misfiled_reply(parsed: ParsedMessage) -> bool:
    """May this spam-flagged message be a reply the filter got wrong?"""
    if not (parsed.in_reply_to or parsed.references):
        return False
    found = _SCORE.search(parsed.header("X-Spam-Status") or "")
    if found is None:
        return True
    try:
        score = float(found.group(1))
        required = float(found.group(2)) if found.group(2) else 5.0
    except ValueError:
        return True
    return score < 2 * max(required, 1.0)


def analyse_all(raws: Sequence[bytes]) -> list[Analysis]:
    return [analyse(raw) for raw in raws]
