"""One cell of the directory import: each value's parser and its ``FieldError``.

``scenarios.directory`` reads the file and calls these per row; each parser takes the
stripped text of a cell and returns the normalised value or raises ``FieldError`` with a
few words saying why. Département and collectivity codes are checked against the official
list (``scenarios.geography``): overseas collectivities (975, 977, 978, 984, 986 to 989)
included, their région being their own code.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping
from types import MappingProxyType

import phonenumbers
from email_validator import EmailNotValidError, validate_email

from scenarios import geography
from scenarios.calendar import UnknownDepartement, normalise_departement
from scenarios.domain import CollectivityKind
from scenarios.opening_hours import OpeningHoursError, format_hours, parse_hours
from scenarios.service_kinds import fold, known_codes, resolve_service_kind, service_kind


class FieldError(ValueError):
    """One cell's value is not acceptable; the message says why, in a few words (English,
    for logs and programmers). ``code`` and ``params`` name the case for the reader:
    ``directory.error.<code>`` in the catalogue, with ``params`` as its placeholders."""

    def __init__(self, message: str, code: str, /, **params: str | int) -> None:
        super().__init__(message)
        self.code = code
        self.params = params


def fold_header(text: str) -> str:
    """A header or label folded for lookup: ``"Code INSEE"`` -> ``"code insee"``."""
    return " ".join(re.sub(r"[^0-9a-z]+", " ", fold(text)).split())


_KIND_LABELS: dict[str, CollectivityKind] = {
    fold_header(label): kind
    for kind, labels in {
        CollectivityKind.COMMUNE: ("commune", "ville", "commune nouvelle"),
        CollectivityKind.EPCI: ("epci", "epci a fiscalite propre", "intercommunalite",
                                "communaute de communes", "communaute d agglomeration",
                                "communaute urbaine", "metropole", "cc", "ca", "cu",
                                "syndicat intercommunal"),
        CollectivityKind.DEPARTEMENT: ("departement", "conseil departemental",
                                       "conseil general", "cd"),
        CollectivityKind.REGION: ("region", "conseil regional", "cr"),
    }.items()
    for label in labels
}  # fmt: skip


KIND_NAMES = {
    CollectivityKind.COMMUNE: "a commune",
    CollectivityKind.EPCI: "an EPCI",
    CollectivityKind.DEPARTEMENT: "a département",
    CollectivityKind.REGION: "a région",
}


def parse_collectivity_kind(text: str) -> CollectivityKind:
    kind = _KIND_LABELS.get(fold_header(text))
    if kind is None:
        raise FieldError(
            f"unknown collectivity kind {text!r} (use commune, EPCI, département or région)",
            "collectivity_kind",
            value=text,
        )
    return kind


# The région of every département and overseas collectivity, from the official list.
REGION_OF_DEPARTEMENT: Mapping[str, str] = MappingProxyType(
    {code: a.region for code, a in geography.AREAS.items()}
)
_OVERSEAS = ", ".join(code for code in geography.AREAS if len(code) == 3)


def parse_departement(text: str) -> str:
    try:
        return normalise_departement(text)
    except UnknownDepartement as exc:
        raise FieldError(f"unknown département code {text!r}", "departement", value=text) from exc


def region_for(departement: str) -> str:
    """INSEE code of the région a département belongs to (``"57"`` -> ``"44"``); an overseas
    collectivity is its own (``"987"`` -> ``"987"``)."""
    return REGION_OF_DEPARTEMENT[normalise_departement(departement)]


def parse_insee_code(text: str) -> str:
    """A commune's INSEE code, normalised: ``"2a004"`` -> ``"2A004"``, ``"1053"`` -> ``"01053"``.

    Overseas codes start with the three digits of their département or collectivity
    (``97411``, ``97502``, ``98735``); Paris, Lyon and Marseille's municipal arrondissements
    have codes of their own (``75101``, ``69381``, ``13201``).
    """
    code = text.strip().upper()
    if re.fullmatch(r"\d{4}", code):
        code = "0" + code  # a spreadsheet read it as a number and dropped the zero
    if code[:2] in ("97", "98") and re.fullmatch(r"\d{5}", code):
        if code[:3] not in REGION_OF_DEPARTEMENT:
            raise FieldError(
                f"INSEE code {text!r} is in no overseas département or collectivity ({_OVERSEAS})",
                "insee_overseas",
                value=text,
                known=_OVERSEAS,
            )
        if code[3:] == "00":
            raise FieldError(f"INSEE code {text!r} has no commune number", "insee_no_commune",
                             value=text)  # fmt: skip
        return code
    if not re.fullmatch(r"(\d\d|2[AB])\d{3}", code):
        raise FieldError(
            f"INSEE code {text!r} is not 5 characters like 57463, 2A004 or 97411",
            "insee_format",
            value=text,
        )
    if code[:2] == "20":
        raise FieldError(
            f"INSEE code {text!r}: Corsican codes start with 2A or 2B", "insee_corsica", value=text
        )
    if code[:2] not in REGION_OF_DEPARTEMENT:
        raise FieldError(
            f"INSEE code {text!r} starts with no département", "insee_departement", value=text
        )
    if code[2:] == "000":
        raise FieldError(f"INSEE code {text!r} has no commune number", "insee_no_commune",
                         value=text)  # fmt: skip
    return code


def departement_of_insee(code: str) -> str:
    return code[:3] if code[:2] in ("97", "98") else code[:2]


def luhn_ok(digits: str) -> bool:
    total = 0
    for position, char in enumerate(reversed(digits)):
        value = int(char) * (2 if position % 2 else 1)
        total += value - 9 if value > 9 else value
    return total % 10 == 0


def parse_siren(text: str) -> str:
    """A SIREN: 9 digits (spaces allowed) whose Luhn check digit is right."""
    siren = re.sub(r"[\s\u00a0\u202f]", "", text)
    if not re.fullmatch(r"\d{9}", siren):
        raise FieldError(f"SIREN {text!r} is not 9 digits", "siren_format", value=text)
    if not luhn_ok(siren):
        raise FieldError(f"SIREN {text!r} has a wrong check digit", "siren_check", value=text)
    return siren


_THOUSANDS = "[ \u00a0\u202f\u2009]"
MAX_POPULATION = 20_000_000


def parse_population(text: str) -> int:
    """A whole number ≥ 0, French thousands separators allowed (``"12 345"``)."""
    value = text.strip()
    if not re.fullmatch(rf"\d+|\d{{1,3}}({_THOUSANDS}\d{{3}})+", value):
        raise FieldError(
            f"population {text!r} is not a whole number ≥ 0 (e.g. 12 345)",
            "population_format",
            value=text,
        )
    digits = re.sub(_THOUSANDS, "", value).lstrip("0") or "0"
    # checked before int(): Python refuses to read more than 4,300 digits at all
    if len(digits) > len(str(MAX_POPULATION)) or int(digits) > MAX_POPULATION:
        shown = text if len(text) <= 20 else text[:20] + "…"
        raise FieldError(
            f"population {shown!r} is more than {MAX_POPULATION:,}".replace(",", " "),
            "population_too_big",
            value=shown,
            most=MAX_POPULATION,
        )
    return int(digits)


def parse_service_kind(text: str) -> str:
    code = resolve_service_kind(text)
    if code is None:
        hint = ""
        names = [*known_codes(), *(service_kind(c).label_fr for c in known_codes())]
        close = difflib.get_close_matches(text.strip(), names, n=1, cutoff=0.75)
        known = ", ".join(known_codes())
        if close:
            hint = f"; did you mean {close[0]!r}?"
            raise FieldError(
                f"unknown service kind {text!r}{hint} (known: {known})",
                "service_kind_close",
                value=text,
                close=close[0],
                known=known,
            )
        raise FieldError(
            f"unknown service kind {text!r} (known: {known})",
            "service_kind",
            value=text,
            known=known,
        )
    return code


def _email_code(detail: str) -> str:
    """The case of email_validator's English message we can say in the reader's words."""
    if "must have an @-sign" in detail:
        return "email_at"
    if "something before the @-sign" in detail:
        return "email_before_at"
    if "something after the @-sign" in detail:
        return "email_after_at"
    if "invalid characters" in detail:
        return "email_characters"
    if "should have a period" in detail:
        return "email_period"
    return "email"


def parse_email(text: str) -> str:
    """Syntax only (no DNS); the domain comes back lower-cased."""
    try:
        checked = validate_email(text.strip(), check_deliverability=False)
    except EmailNotValidError as exc:
        raise FieldError(f"email {text!r} is not valid: {exc}", _email_code(str(exc)),
                         value=text) from exc  # fmt: skip
    return checked.normalized


# Regions phonenumbers knows for the overseas départements, and the national prefixes
# that belong to them: a number written 0590… is Guadeloupe's +590 590…, wherever it is
# listed (phonenumbers would read some of them as valid +33 numbers, which they are not).
_PHONE_REGION = {"971": "GP", "972": "MQ", "973": "GF", "974": "RE", "976": "YT", "975": "PM",
                 "977": "BL", "978": "MF", "986": "WF", "987": "PF", "988": "NC"}  # fmt: skip
_OVERSEAS_PREFIX = {
    "0590": "GP", "0690": "GP", "0691": "GP", "0596": "MQ", "0696": "MQ", "0697": "MQ",
    "0594": "GF", "0694": "GF", "0262": "RE", "0263": "RE", "0692": "RE", "0693": "RE",
    "0269": "YT", "0639": "YT",
}  # fmt: skip
_FRENCH_REGIONS = frozenset(
    {"FR", "GP", "MQ", "GF", "RE", "YT", "BL", "MF", "PM", "WF", "PF", "NC"}
)


def parse_phone(text: str, departement: str | None = None) -> str:
    """A French number in E.164 (``"01 23 45 67 89"`` -> ``"+33123456789"``).

    National numbers with an overseas prefix go to that département's plan; the others are
    tried in the plan of ``departement`` (an overseas collectivity's own 08… numbers), then
    in the metropolitan one.
    """
    raw = text.strip()
    digits = re.sub(r"[^\d+]", "", raw)
    if digits.startswith("+") or digits.startswith("00"):
        regions = ["FR"]
    elif digits[:4] in _OVERSEAS_PREFIX:
        regions = [_OVERSEAS_PREFIX[digits[:4]]]  # Réunion and Mayotte share +262: either will do
    else:
        regions = [_PHONE_REGION.get(departement or "", "FR"), "FR"]
    for region in dict.fromkeys(regions):
        try:
            number = phonenumbers.parse(raw, region)
        except phonenumbers.NumberParseException as exc:
            raise FieldError(
                f"phone {text!r} is not a phone number", "phone_not_number", value=text
            ) from exc
        if number.extension:
            raise FieldError(
                f"phone {text!r} has an extension; give the direct number",
                "phone_extension",
                value=text,
            )
        if phonenumbers.is_valid_number(number):
            if phonenumbers.region_code_for_number(number) not in _FRENCH_REGIONS:
                raise FieldError(
                    f"phone {text!r} is not a French number", "phone_not_french", value=text
                )
            return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    raise FieldError(f"phone {text!r} is not a valid French number", "phone_invalid", value=text)


def parse_postal_code(text: str) -> str:
    code = text.strip()
    if re.fullmatch(r"\d{4}", code):
        code = "0" + code  # the spreadsheet's dropped leading zero, as for INSEE codes
    if not re.fullmatch(r"\d{5}", code):
        raise FieldError(f"postal code {text!r} is not 5 digits", "postal_code", value=text)
    return code


def parse_coordinate(text: str, limit: float) -> float:
    """Decimal degrees, ``.`` or ``,`` as the decimal mark, within ±``limit``."""
    try:
        value = float(text.strip().replace(",", ".").replace("\u2212", "-"))
    except ValueError:
        raise FieldError(
            f"{text!r} is not decimal degrees (like 45.8936)", "coordinate_format", value=text
        ) from None
    if not -limit <= value <= limit:
        raise FieldError(
            f"{text!r} is outside -{limit:g} to {limit:g} degrees",
            "coordinate_range",
            value=text,
            limit=int(limit),
        )
    return value


def parse_opening_hours(text: str) -> str | None:
    try:
        hours = parse_hours(text)
    except OpeningHoursError as exc:
        code = f"hours_{exc.code}" if exc.code else "hours"
        raise FieldError(
            f"opening hours {text!r}: {exc}", code, value=text, reason=str(exc), **exc.params
        ) from exc
    return None if hours.is_empty else format_hours(hours)
