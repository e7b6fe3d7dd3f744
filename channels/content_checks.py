"""What an answer contains, checked automatically; a coordinator's review kept beside it.

Stored per contact in ``Contact.checks`` (JSON), computed from the contact's *first* answer
(a redirect counts as one)::

    {
      "version": 1, "message": 42, "computed_at": "…",
      "expected": {"procedure": {"label": "…", "auto": true}, …},   # scenario elements
      "form": {                                                     # how it is written
        "greeting": {"auto": true, "found": "Bonjour Madame,"},
        "closing": {"auto": true, "found": "Bien cordialement,"},
        "agent_name": {"auto": true, "found": "Julien Moreau"},
        "phone": {"auto": true, "found": "01 23 45 67 89", "directory": true},
        "email": {"auto": false}, "postal_address": {"auto": true, "found": "…"},
        "right_service": {"auto": true}
      },
      "links": ["https://…"], "attachments": [{"filename": …, "content_type": …, "size": …}]
    }

Only the reply's own words are read (new text and signature, never the quoted request: our
own wording would otherwise tick every box). Expected elements are looked for with
``channels.content.check_expected``, the matcher of ``temoin mail inspect``: the same patterns
as the catalogue's ``ExpectedElement.found_in``, case and accents folded, and the same result
on the shipped catalogue (scenarios/text.py says where the two foldings part), but the text is
folded once per answer instead of once per element (found_in costs ~3 ms per element on a
10 KB answer), and the pattern that matched is kept as evidence. Links are listed, never
fetched.

A review (``temoin review CONTACT --check NAME=yes|no``) adds ``"override": {"value": …,
"note": …, "at": …, "by": …}`` to an item; the automatic value is never overwritten, and
``effective()`` says which one counts.

Most of the work does not depend on the contact: ``read_answer`` does it once per message
(the tracker runs it in its parser processes, beside the classifier) and ``check_answer``
adds what does (the scenario's elements, the persona's and the service's addresses).
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from channels.content import check_expected_folded, fold, fold_words
from channels.mime import ParsedMessage

CHECKS_VERSION = 1
FORM_CHECKS = (
    "greeting",
    "closing",
    "agent_name",
    "phone",
    "email",
    "postal_address",
    "right_service",
)

_GREETING = re.compile(
    r"^(bonjour|bonsoir|madame|monsieur|mesdames|messieurs|mme|m\.|cher|chere|hello|salut|bjr)\b"
)
_CLOSING = re.compile(
    r"\b(cordialement|bien a vous|salutations|veuillez agreer|je vous prie d'agreer|"
    r"(mes|nos) sentiments|respectueusement|bonne (fin de )?journee|belle journee|"
    r"bonne soiree|bien amicalement|amities|sinceres salutations|a votre (entiere )?disposition)\b"
)
_PHONE = re.compile(r"(?<![\d+])(?:\+33\s?\(?0?\)?\s?[1-9]|0[1-9])(?:[\s.\-]?\d{2}){4}(?!\d)")
_EMAIL = re.compile(r"[\w.+'=-]{1,64}@[\w-]{1,63}(?:\.[\w-]{1,63})+")
_STREET = re.compile(
    r"\b\d{1,4}\s?(?:bis|ter)?,?\s+(?:rue|avenue|av\.|boulevard|bd|place|chemin|allee|route|"
    r"impasse|quai|cours|square|rond-point|esplanade|parvis|promenade|faubourg|mail)\b"
)
_POSTCODE = re.compile(r"\b(?:\d{5}|\d{2}\s\d{3})\s+[a-z][a-z' -]{2,}|\b(?:bp|cs)\s?\d{1,6}\b")
_URL = re.compile(r"(?:https?://|www\.)[^\s<>\"')\]]+", re.IGNORECASE)
# « www. » as _URL finds it: "w" ignoring case is "w" or "W" only, even in Unicode.
_WWW_FORMS = tuple("".join(form) + "." for form in itertools.product("wW", repeat=3))


def _may_hold_url(text: str) -> bool:
    return "://" in text or any(form in text for form in _WWW_FORMS)


_NAME = re.compile(
    r"^(?:(?:m\.|mme|mlle|mr|dr|madame|monsieur)\s+)?"
    r"[A-ZÀ-ÖØ-Ý][\w'’-]+(?:\s+[A-ZÀ-ÖØ-Ý][\w'’-]+){1,3}$",
    re.IGNORECASE,
)
_INSTITUTION = re.compile(
    r"\b(mairie|service|services|accueil|ville|commune|ccas|etat civil|hotel|departement|"
    r"direction|pole|mediatheque|bibliotheque|police|piscine|secretariat|urbanisme|centre|"
    r"office|agence|communaute|conseil|cordialement|salutations|tel|fax|email|courriel)\b"
)


class ElementLike(Protocol):
    @property
    def id(self) -> str: ...

    @property
    def label(self) -> str: ...

    @property
    def patterns(self) -> Sequence[str]: ...


def _lines(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip()]


def _signature_block(parsed: ParsedMessage) -> list[str]:
    """The signature, else what follows the closing formula, else the last lines."""
    if parsed.signature.strip():
        return _lines(parsed.signature)
    lines = _lines(parsed.new_text)
    for index in range(len(lines) - 1, -1, -1):
        if _CLOSING.search(fold(lines[index])):
            return lines[index + 1 :] or lines[-6:]
    return lines[-6:]


def _agent_name(parsed: ParsedMessage, block: Sequence[str]) -> str | None:
    for line in block[:6]:
        candidate = line.strip(" ,.-–")
        if _NAME.match(candidate) and not _INSTITUTION.search(fold(candidate)):
            return candidate
    name = (parsed.from_.name if parsed.from_ else "").strip().strip('"')
    if name and _NAME.match(name) and not _INSTITUTION.search(fold(name)):
        return name
    return None


def _digits(phone: str) -> str:
    digits = re.sub(r"\D", "", phone)
    if digits.startswith("33"):
        digits = "0" + digits[2:].lstrip("0")
    return digits


@dataclass(frozen=True, slots=True)
class AnswerText:
    """What the checks read in a reply's own words, whoever the contact (plain data)."""

    greeting: str | None
    closing: str | None
    agent_name: str | None
    phone: str | None
    emails: tuple[str, ...]  # every address written, once each, in order
    postal_address: str | None
    links: tuple[str, ...]
    folded: str  # the own text folded with ``fold_words``, for the expected elements


def read_answer(parsed: ParsedMessage) -> AnswerText:
    """The contact-independent part of ``check_answer``."""
    own_text = f"{parsed.new_text}\n{parsed.signature}"
    lines = _lines(parsed.new_text)
    folded_lines = [fold(line) for line in lines]
    block = _signature_block(parsed)
    block_text = "\n".join(block)
    folded_block = fold(block_text)
    greeting = next((line for line, f in zip(lines[:3], folded_lines[:3], strict=False)
                     if _GREETING.search(f)), None)  # fmt: skip
    closing = next(
        (lines[i] for i in range(len(lines) - 1, max(len(lines) - 12, -1), -1)
         if _CLOSING.search(folded_lines[i])),
        None,
    )  # fmt: skip
    if closing is None:
        closing = next((line for line in block if _CLOSING.search(fold(line))), None)
    phone = _PHONE.search(block_text) or _PHONE.search(own_text)
    address = _STREET.search(folded_block) or _POSTCODE.search(folded_block)
    # Both patterns start at every character of a long answer (5 ms per 200 KB): tried only
    # when what each match must contain is there ("@"; "://" or « www. » in any case).
    urls = _URL.findall(own_text) if _may_hold_url(own_text) else []
    links = list(dict.fromkeys(url.rstrip(".,;:") for url in urls))[:50]
    emails = _EMAIL.findall(own_text) if "@" in own_text else []
    return AnswerText(
        greeting=greeting,
        closing=closing,
        agent_name=_agent_name(parsed, block),
        phone=phone.group(0) if phone else None,
        emails=tuple(dict.fromkeys(emails)),
        postal_address=address.group(0) if address else None,
        links=tuple(links),
        folded=fold_words(own_text),
    )


def check_answer(
    parsed: ParsedMessage,
    elements: Sequence[ElementLike],
    *,
    message: int,
    computed_at: datetime,
    redirect: bool,
    persona_email: str,
    service_email: str | None = None,
    service_phone: str | None = None,
    text: AnswerText | None = None,
) -> dict[str, Any]:
    """The automatic checks of one answer (see the module docstring for the shape);
    ``text`` is ``read_answer(parsed)`` when it was read already."""
    read = text if text is not None else read_answer(parsed)
    form: dict[str, dict[str, Any]] = {
        "greeting": {"auto": read.greeting is not None, "found": read.greeting},
        "closing": {"auto": read.closing is not None, "found": read.closing},
        "agent_name": {"auto": read.agent_name is not None, "found": read.agent_name},
    }
    phone_item: dict[str, Any] = {"auto": read.phone is not None, "found": read.phone}
    if read.phone and service_phone:
        phone_item["directory"] = _digits(read.phone) == _digits(service_phone)
    form["phone"] = phone_item
    persona = persona_email.lower()
    emails = [e for e in read.emails if e.lower() != persona]
    email_item: dict[str, Any] = {"auto": bool(emails), "found": emails[0] if emails else None}
    if emails and service_email:
        email_item["directory"] = any(e.lower() == service_email.lower() for e in emails)
    form["email"] = email_item
    form["postal_address"] = {
        "auto": read.postal_address is not None,
        "found": read.postal_address,
    }
    form["right_service"] = {"auto": not redirect}
    hits = check_expected_folded(read.folded, elements)
    expected = {
        element.id: {"label": element.label, "auto": hit.found, "pattern": hit.pattern}
        for element, hit in zip(elements, hits, strict=True)
    }
    return {
        "version": CHECKS_VERSION,
        "message": message,
        "computed_at": computed_at.isoformat(),
        "expected": expected,
        "form": form,
        "links": list(read.links),
        "attachments": [
            {"filename": a.filename, "content_type": a.content_type, "size": a.size}
            for a in parsed.attachments
        ],
    }


# -- reviews ---------------------------------------------------------------------------------


class UnknownCheck(KeyError):
    pass


def empty_checks(elements: Sequence[ElementLike]) -> dict[str, Any]:
    """Checks of a contact with no answer checked yet: every item, no automatic value."""
    return {
        "version": CHECKS_VERSION,
        "message": None,
        "expected": {e.id: {"label": e.label, "auto": None} for e in elements},
        "form": {name: {"auto": None} for name in FORM_CHECKS},
        "links": [],
        "attachments": [],
    }


def find_item(checks: dict[str, Any], name: str) -> tuple[str, str]:
    """("expected" | "form", item) for ``name``, ``expected.NAME`` or ``form.NAME``."""
    group, dot, item = name.partition(".")
    if dot and group in ("expected", "form"):
        if item in checks.get(group, {}):
            return group, item
        raise UnknownCheck(name)
    hits = [g for g in ("expected", "form") if name in checks.get(g, {})]
    if len(hits) == 1:
        return hits[0], name
    if hits:
        raise UnknownCheck(f"{name} is ambiguous: write expected.{name} or form.{name}")
    raise UnknownCheck(name)


def review(
    checks: dict[str, Any],
    name: str,
    value: bool,
    *,
    note: str | None,
    at: datetime,
    by: str | None,
) -> dict[str, Any]:
    """A copy of ``checks`` with a review of one item; the automatic value is kept, and so
    is the earlier review's note when ``note`` is ``None``."""
    group, item = find_item(checks, name)
    updated = {**checks, group: {**checks[group]}}
    entry = dict(updated[group][item])
    if note is None:  # a check re-run without a note keeps the note given before
        earlier = entry.get("override")
        note = earlier.get("note") if isinstance(earlier, dict) else None
    entry["override"] = {"value": value, "note": note, "at": at.isoformat(), "by": by}
    updated[group][item] = entry
    return updated


def effective(entry: dict[str, Any]) -> bool | None:
    """The review's value when there is one, else the automatic value."""
    reviewed = entry.get("override")
    if isinstance(reviewed, dict) and "value" in reviewed:
        return bool(reviewed["value"])
    auto = entry.get("auto")
    return None if auto is None else bool(auto)


def carry_reviews(old: dict[str, Any] | None, new: dict[str, Any]) -> dict[str, Any]:
    """Keep a coordinator's reviews when the automatic checks are computed again."""
    if not old:
        return new
    merged = {**new}
    for group in ("expected", "form"):
        items = {**merged.get(group, {})}
        for name, entry in (old.get(group) or {}).items():
            if isinstance(entry, dict) and "override" in entry:
                items[name] = {**items.get(name, {"auto": None}), "override": entry["override"]}
        merged[group] = items
    return merged
