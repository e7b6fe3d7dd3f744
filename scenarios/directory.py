"""The directory import: a spreadsheet of services, parsed and validated, never written.

Flow: ``parse_directory(bytes)`` -> decode (UTF-8 with or without BOM, else Windows-1252)
-> pick the delimiter (``;`` or ``,``, whichever the header line holds more of) -> map the
headers to fields -> validate every row -> ``ImportResult`` with either the records or every
problem as ``RowError(line, column, reason)``. Nothing here touches a file, a database or a
clock: ``storage.directory`` writes the records, ``temoin import services`` wires the two.

One row per service, its collectivity's columns repeated on each of its rows. Columns
(headers are matched case-, accent- and punctuation-insensitively; the aliases in brackets
are what French spreadsheets usually call them):

=================  ========  ===========================================================
header             required  content
=================  ========  ===========================================================
insee_code         yes       communes: INSEE code, 5 characters (``57463``, ``2A004``,
                             ``97411``; a 4-digit code gets back the leading zero a
                             spreadsheet dropped). EPCI, départements and régions: their
                             SIREN, 9 digits with a valid check digit (stored as the
                             identifier and as ``siren``). [code INSEE, insee, SIREN…]
collectivity_name  yes       [nom de la collectivité, collectivité, commune]
collectivity_kind  yes       commune, epci, departement, region; French labels accepted
                             (Commune, EPCI, Communauté de communes, Métropole,
                             Département, Conseil départemental, Région…)
population         yes       whole number ≥ 0; ``12 345`` with spaces, no-break or thin
                             spaces accepted [population municipale, habitants]
departement        yes       département code (``57``, ``2A``, ``974``; ``7`` -> ``07``).
                             Communes: may be left empty (taken from the INSEE code), and
                             must match it when given. Others: required (a région gives
                             the département of its seat: it drives the holiday calendar)
service_kind       yes       a code, French label or alias of ``scenarios.service_kinds``
service_name       no        default: the kind's French label [nom du service, service]
email              no        syntax checked, no DNS lookup [courriel, mél, e-mail]
phone              no        French number, stored as E.164; overseas départements get
                             their own country codes (0590… -> +590 590…) [téléphone, tél]
address            no        street [adresse, adresse postale]
postal_code        no        5 digits; 4 get the dropped leading zero [code postal, CP]
city               no        [ville, localité]
opening_hours      no        the format of ``scenarios.opening_hours``, stored in its
                             canonical form [horaires, horaires d'ouverture]
latitude           no        WGS 84 decimal degrees of the counter (``45.8936`` or
                             ``45,8936``), with longitude or not at all: a visiting
                             auditor's shared location is compared with it [lat]
longitude          no        likewise, −180 to 180 [lon, lng, long]
=================  ========  ===========================================================

Any unknown, duplicated or missing required column is an error; so is a collectivity given
twice with different values, or the same service twice: same collectivity and kind, and a
name that is the same once case, accents, spaces and punctuation are folded (« Accueil »
and « ACCUEIL », ``service_identity``). Services may share an address (a small commune's
one mailbox; two sites of a kind behind one central mailbox); a re-import that renames a
service is recognised by its address (``storage.directory``). Empty rows are skipped.
Line numbers are physical lines of the file, the header being line 1.
"""

from __future__ import annotations

import codecs
import csv
import difflib
import io
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TypeVar

import phonenumbers
from email_validator import EmailNotValidError, validate_email

from scenarios.calendar import UnknownDepartement, normalise_departement
from scenarios.domain import CollectivityKind
from scenarios.opening_hours import OpeningHoursError, format_hours, parse_hours
from scenarios.service_kinds import fold, known_codes, resolve_service_kind, service_kind
from scenarios.text import fold_key

T = TypeVar("T")


def service_identity(name: str) -> str:
    """What makes two names one service: « Accueil », « ACCUEIL » and « accueil » are one,
    and so are « Hôtel-de-Ville » and « hotel de ville ». The name shown is kept as written."""
    return fold_key(name)


class FieldError(ValueError):
    """One cell's value is not acceptable; the message says why, in a few words."""


@dataclass(frozen=True, slots=True)
class RowError:
    line: int
    column: str | None  # the header as written in the file; None for file-wide problems
    reason: str

    def __str__(self) -> str:
        where = (
            f"line {self.line}"
            if self.column is None
            else f"line {self.line}, column {self.column}"
        )
        return f"{where}: {self.reason}"


@dataclass(frozen=True, slots=True)
class CollectivityRecord:
    insee_code: str
    name: str
    kind: CollectivityKind
    population: int
    departement: str
    region: str
    siren: str | None
    line: int = field(default=0, compare=False)


@dataclass(frozen=True, slots=True)
class ServiceRecord:
    insee_code: str  # the collectivity's identifier
    kind: str
    name: str
    email: str | None = None
    phone: str | None = None
    address: str | None = None
    postal_code: str | None = None
    city: str | None = None
    opening_hours: str | None = None
    line: int = field(default=0, compare=False)
    latitude: float | None = None
    longitude: float | None = None


@dataclass(frozen=True, slots=True)
class ImportResult:
    collectivities: tuple[CollectivityRecord, ...] = ()
    services: tuple[ServiceRecord, ...] = ()
    errors: tuple[RowError, ...] = ()
    encoding: str | None = None
    delimiter: str | None = None

    @property
    def ok(self) -> bool:
        return not self.errors


# --- columns ----------------------------------------------------------------------------

_COLUMNS: dict[str, tuple[bool, tuple[str, ...]]] = {
    "insee_code": (True, ("code insee", "insee", "code commune", "code insee commune",
                          "siren", "code insee ou siren", "insee siren", "identifiant")),
    "collectivity_name": (True, ("nom collectivite", "nom de la collectivite", "collectivite",
                                 "commune", "nom de la commune", "nom commune")),
    "collectivity_kind": (True, ("type collectivite", "type de collectivite",
                                 "nature de la collectivite", "categorie de collectivite")),
    "population": (True, ("population municipale", "population totale", "habitants",
                          "nombre d habitants", "pop")),
    "departement": (True, ("code departement", "dep", "dept", "code dep", "departement code")),
    "service_kind": (True, ("type service", "type de service", "categorie de service",
                            "nature du service")),
    "service_name": (False, ("nom service", "nom du service", "service", "intitule du service")),
    "email": (False, ("courriel", "e mail", "mail", "mel", "adresse mail", "adresse email",
                      "adresse electronique", "adresse courriel")),
    "phone": (False, ("telephone", "tel", "numero de telephone", "n de telephone")),
    "address": (False, ("adresse", "adresse postale", "rue", "voie")),
    "postal_code": (False, ("code postal", "cp")),
    "city": (False, ("ville", "localite", "commune postale", "bureau distributeur")),
    "opening_hours": (False, ("horaires", "horaires d ouverture", "heures d ouverture",
                              "horaires ouverture")),
    "latitude": (False, ("lat",)),
    "longitude": (False, ("lon", "lng", "long")),
}  # fmt: skip

_MAX_LENGTH = {"collectivity_name": 200, "service_name": 200, "address": 300, "city": 120,
               "opening_hours": 300, "email": 254}  # fmt: skip


def _fold_header(text: str) -> str:
    return " ".join(re.sub(r"[^0-9a-z]+", " ", fold(text)).split())


_HEADER_LOOKUP: dict[str, str] = {}
for _field, (_required, _aliases) in _COLUMNS.items():
    for _alias in (_field, *_aliases):
        _HEADER_LOOKUP[_fold_header(_alias)] = _field


def resolve_header(text: str) -> str | None:
    """The field a header names (``"Code INSEE"`` -> ``"insee_code"``), or None."""
    return _HEADER_LOOKUP.get(_fold_header(text))


# --- single values ------------------------------------------------------------------------

_KIND_LABELS: dict[str, CollectivityKind] = {
    _fold_header(label): kind
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


_KIND_NAMES = {
    CollectivityKind.COMMUNE: "a commune",
    CollectivityKind.EPCI: "an EPCI",
    CollectivityKind.DEPARTEMENT: "a département",
    CollectivityKind.REGION: "a région",
}


def parse_collectivity_kind(text: str) -> CollectivityKind:
    kind = _KIND_LABELS.get(_fold_header(text))
    if kind is None:
        raise FieldError(
            f"unknown collectivity kind {text!r} (use commune, EPCI, département or région)"
        )
    return kind


# INSEE region codes of the 101 départements (COG).
_REGIONS: dict[str, tuple[str, ...]] = {
    "84": ("01", "03", "07", "15", "26", "38", "42", "43", "63", "69", "73", "74"),
    "27": ("21", "25", "39", "58", "70", "71", "89", "90"),
    "53": ("22", "29", "35", "56"),
    "24": ("18", "28", "36", "37", "41", "45"),
    "94": ("2A", "2B"),
    "44": ("08", "10", "51", "52", "54", "55", "57", "67", "68", "88"),
    "32": ("02", "59", "60", "62", "80"),
    "11": ("75", "77", "78", "91", "92", "93", "94", "95"),
    "28": ("14", "27", "50", "61", "76"),
    "75": ("16", "17", "19", "23", "24", "33", "40", "47", "64", "79", "86", "87"),
    "76": ("09", "11", "12", "30", "31", "32", "34", "46", "48", "65", "66", "81", "82"),
    "52": ("44", "49", "53", "72", "85"),
    "93": ("04", "05", "06", "13", "83", "84"),
    "01": ("971",), "02": ("972",), "03": ("973",), "04": ("974",), "06": ("976",),
}  # fmt: skip
REGION_OF_DEPARTEMENT: Mapping[str, str] = {
    dep: region for region, deps in _REGIONS.items() for dep in deps
}


def parse_departement(text: str) -> str:
    try:
        return normalise_departement(text)
    except UnknownDepartement as exc:
        raise FieldError(f"unknown département code {text!r}") from exc


def region_for(departement: str) -> str:
    """INSEE code of the région a département belongs to (``"57"`` -> ``"44"``)."""
    return REGION_OF_DEPARTEMENT[normalise_departement(departement)]


def parse_insee_code(text: str) -> str:
    """A commune's INSEE code, normalised: ``"2a004"`` -> ``"2A004"``, ``"1053"`` -> ``"01053"``."""
    code = text.strip().upper()
    if re.fullmatch(r"\d{4}", code):
        code = "0" + code  # a spreadsheet read it as a number and dropped the zero
    if code.startswith("97") and re.fullmatch(r"\d{5}", code):
        if code[:3] not in REGION_OF_DEPARTEMENT:
            raise FieldError(
                f"INSEE code {text!r} is not in an overseas département (971 to 974, 976)"
            )
        if code[3:] == "00":
            raise FieldError(f"INSEE code {text!r} has no commune number")
        return code
    if not re.fullmatch(r"(\d\d|2[AB])\d{3}", code):
        raise FieldError(f"INSEE code {text!r} is not 5 characters like 57463, 2A004 or 97411")
    if code[:2] == "20":
        raise FieldError(f"INSEE code {text!r}: Corsican codes start with 2A or 2B")
    if code[:2] not in REGION_OF_DEPARTEMENT:
        raise FieldError(f"INSEE code {text!r} starts with no département")
    if code[2:] == "000":
        raise FieldError(f"INSEE code {text!r} has no commune number")
    return code


def departement_of_insee(code: str) -> str:
    return code[:3] if code.startswith("97") else code[:2]


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
        raise FieldError(f"SIREN {text!r} is not 9 digits")
    if not luhn_ok(siren):
        raise FieldError(f"SIREN {text!r} has a wrong check digit")
    return siren


_THOUSANDS = "[ \u00a0\u202f\u2009]"
MAX_POPULATION = 20_000_000


def parse_population(text: str) -> int:
    """A whole number ≥ 0, French thousands separators allowed (``"12 345"``)."""
    value = text.strip()
    if not re.fullmatch(rf"\d+|\d{{1,3}}({_THOUSANDS}\d{{3}})+", value):
        raise FieldError(f"population {text!r} is not a whole number ≥ 0 (e.g. 12 345)")
    digits = re.sub(_THOUSANDS, "", value).lstrip("0") or "0"
    # checked before int(): Python refuses to read more than 4,300 digits at all
    if len(digits) > len(str(MAX_POPULATION)) or int(digits) > MAX_POPULATION:
        shown = text if len(text) <= 20 else text[:20] + "…"
        raise FieldError(f"population {shown!r} is more than {MAX_POPULATION:,}".replace(",", " "))
    return int(digits)


def parse_service_kind(text: str) -> str:
    code = resolve_service_kind(text)
    if code is None:
        hint = ""
        names = [*known_codes(), *(service_kind(c).label_fr for c in known_codes())]
        close = difflib.get_close_matches(text.strip(), names, n=1, cutoff=0.75)
        if close:
            hint = f"; did you mean {close[0]!r}?"
        raise FieldError(f"unknown service kind {text!r}{hint} (known: {', '.join(known_codes())})")
    return code


def parse_email(text: str) -> str:
    """Syntax only (no DNS); the domain comes back lower-cased."""
    try:
        checked = validate_email(text.strip(), check_deliverability=False)
    except EmailNotValidError as exc:
        raise FieldError(f"email {text!r} is not valid: {exc}") from exc
    return checked.normalized


# Regions phonenumbers knows for the overseas départements, and the national prefixes
# that belong to them: a number written 0590… is Guadeloupe's +590 590…, wherever it is
# listed (phonenumbers would read some of them as valid +33 numbers, which they are not).
_PHONE_REGION = {"971": "GP", "972": "MQ", "973": "GF", "974": "RE", "976": "YT"}
_OVERSEAS_PREFIX = {
    "0590": "GP", "0690": "GP", "0691": "GP", "0596": "MQ", "0696": "MQ", "0697": "MQ",
    "0594": "GF", "0694": "GF", "0262": "RE", "0263": "RE", "0692": "RE", "0693": "RE",
    "0269": "YT", "0639": "YT",
}  # fmt: skip
_FRENCH_REGIONS = frozenset({"FR", "GP", "MQ", "GF", "RE", "YT", "BL", "MF"})


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
            raise FieldError(f"phone {text!r} is not a phone number") from exc
        if number.extension:
            raise FieldError(f"phone {text!r} has an extension; give the direct number")
        if phonenumbers.is_valid_number(number):
            if phonenumbers.region_code_for_number(number) not in _FRENCH_REGIONS:
                raise FieldError(f"phone {text!r} is not a French number")
            return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    raise FieldError(f"phone {text!r} is not a valid French number")


def parse_postal_code(text: str) -> str:
    code = text.strip()
    if re.fullmatch(r"\d{4}", code):
        code = "0" + code  # the spreadsheet's dropped leading zero, as for INSEE codes
    if not re.fullmatch(r"\d{5}", code):
        raise FieldError(f"postal code {text!r} is not 5 digits")
    return code


def parse_coordinate(text: str, limit: float) -> float:
    """Decimal degrees, ``.`` or ``,`` as the decimal mark, within ±``limit``."""
    try:
        value = float(text.strip().replace(",", ".").replace("\u2212", "-"))
    except ValueError:
        raise FieldError(f"{text!r} is not decimal degrees (like 45.8936)") from None
    if not -limit <= value <= limit:
        raise FieldError(f"{text!r} is outside -{limit:g} to {limit:g} degrees")
    return value


def parse_opening_hours(text: str) -> str | None:
    try:
        hours = parse_hours(text)
    except OpeningHoursError as exc:
        raise FieldError(f"opening hours {text!r}: {exc}") from exc
    return None if hours.is_empty else format_hours(hours)


# --- the file -----------------------------------------------------------------------------


class _FileProblem(Exception):
    pass


def decode(data: bytes) -> tuple[str, str]:
    """Text and encoding name: UTF-8 (BOM or not) first, Windows-1252 when UTF-8 fails."""
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        raise _FileProblem("the file is UTF-16: export it as CSV UTF-8 or CSV (point-virgule)")
    try:
        text = data.decode("utf-8-sig")
        encoding = "UTF-8 with BOM" if data.startswith(codecs.BOM_UTF8) else "UTF-8"
    except UnicodeDecodeError:
        try:
            text, encoding = data.decode("cp1252"), "Windows-1252"
        except UnicodeDecodeError as exc:
            raise _FileProblem("the file is neither UTF-8 nor Windows-1252 text") from exc
    if "\x00" in text:
        raise _FileProblem("the file holds NUL bytes: it is not a CSV export")
    return text, encoding


def sniff_delimiter(header_line: str) -> str:
    return "," if header_line.count(",") > header_line.count(";") else ";"


Cells = dict[str, tuple[str, str]]  # field -> (header as written, stripped value)


def _map_headers(header: Sequence[str]) -> tuple[dict[int, str], list[RowError]]:
    errors: list[RowError] = []
    fields: dict[int, str] = {}
    seen: dict[str, str] = {}
    for index, name in enumerate(header):
        shown = name.strip()
        if not shown:
            errors.append(RowError(1, f"#{index + 1}", "column without a header"))
            continue
        target = resolve_header(shown)
        if target is None:
            errors.append(RowError(1, shown, f"unknown column (known: {', '.join(_COLUMNS)})"))
        elif target in seen:
            errors.append(RowError(1, shown, f"{target} is already given by {seen[target]!r}"))
        else:
            seen[target] = shown
            fields[index] = target
    for name, (required, _) in _COLUMNS.items():
        if required and name not in seen:
            errors.append(RowError(1, name, "missing required column"))
    return fields, errors


def parse_directory(data: bytes) -> ImportResult:
    """Decode, parse and validate a services spreadsheet; see the module docstring."""
    try:
        text, encoding = decode(data)
    except _FileProblem as exc:
        return ImportResult(errors=(RowError(1, None, str(exc)),))
    if not text.strip():
        return ImportResult(errors=(RowError(1, None, "the file is empty"),), encoding=encoding)
    delimiter = sniff_delimiter(text.splitlines()[0])
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    builder = _Builder()
    try:
        header = next(reader)
        builder.order = {name.strip(): i for i, name in enumerate(header)}
        fields, header_errors = _map_headers(header)
        if header_errors:
            return ImportResult(errors=tuple(header_errors), encoding=encoding,
                                delimiter=delimiter)  # fmt: skip
        previous_end = reader.line_num
        for row in reader:
            line, previous_end = previous_end + 1, reader.line_num
            if not any(cell.strip() for cell in row):
                continue
            extra = row[len(header) :]
            if any(cell.strip() for cell in extra):
                reason = (
                    f"{len(row)} cells but {len(header)} columns"
                    f" (a value holding {delimiter!r} must be in double quotes)"
                )
                builder.errors.append(RowError(line, None, reason))
                continue
            # A short row (trailing empty cells trimmed by the exporter) reads as empty cells.
            cells = {
                target: (header[i].strip(), " ".join(row[i].split()) if i < len(row) else "")
                for i, target in fields.items()
            }
            builder.add_row(line, cells)
    except csv.Error as exc:
        builder.errors.append(RowError(reader.line_num, None, f"malformed CSV: {exc}"))
    if not builder.rows and not builder.errors:
        builder.errors.append(RowError(1, None, "the file has a header but no rows"))
    return builder.result(encoding, delimiter)


class _Builder:
    """Validates rows one by one and keeps what each collectivity and service was."""

    def __init__(self) -> None:
        self.rows = 0
        self.errors: list[RowError] = []
        self.collectivities: dict[str, CollectivityRecord] = {}
        self.services: dict[tuple[str, str, str], ServiceRecord] = {}
        self.order: dict[str, int] = {}  # header -> position, to list errors as in the file

    def result(self, encoding: str, delimiter: str) -> ImportResult:
        if self.errors:
            errors = sorted(self.errors, key=lambda e: (e.line, self.order.get(e.column or "", -1)))
            return ImportResult(errors=tuple(errors), encoding=encoding, delimiter=delimiter)
        return ImportResult(
            tuple(self.collectivities.values()),
            tuple(self.services.values()),
            encoding=encoding,
            delimiter=delimiter,
        )

    def add_row(self, line: int, cells: Cells) -> None:
        self.rows += 1
        collectivity = self._collectivity(line, cells)
        service = self._service(line, cells, collectivity)
        if collectivity is None or service is None:
            return
        key = (collectivity.insee_code, service.kind, service_identity(service.name))
        if key in self.services:
            header = cells.get("service_name", cells["service_kind"])[0]
            known = self.services[key]
            same = "" if known.name == service.name else f" as {known.name!r}"
            reason = (
                f"service {service.name!r} ({service.kind}) of {collectivity.insee_code}"
                f" is already on line {known.line}{same}"
            )
            self.errors.append(RowError(line, header, reason))
            return
        self.services[key] = service

    def _check(
        self, line: int, cells: Cells, name: str, parse: Callable[[str], T], required: bool
    ) -> T | None:
        header, value = cells.get(name, (name, ""))
        if not value:
            if required:
                self.errors.append(RowError(line, header, "empty (required)"))
            return None
        limit = _MAX_LENGTH.get(name)
        if limit is not None and len(value) > limit:
            self.errors.append(RowError(line, header, f"longer than {limit} characters"))
            return None
        try:
            return parse(value)
        except FieldError as exc:
            self.errors.append(RowError(line, header, str(exc)))
            return None

    def _collectivity(self, line: int, cells: Cells) -> CollectivityRecord | None:
        before = len(self.errors)
        kind = self._check(line, cells, "collectivity_kind", parse_collectivity_kind, True)
        name = self._check(line, cells, "collectivity_name", str, True)
        population = self._check(line, cells, "population", parse_population, True)
        identifier, siren, derived = self._identifier(line, cells, kind)
        is_commune = kind is CollectivityKind.COMMUNE
        departement = self._check(line, cells, "departement", parse_departement, not is_commune)
        if derived is not None:
            if departement is not None and departement != derived:
                reason = (
                    f"département {departement} does not match INSEE code {identifier}"
                    f" (département {derived})"
                )
                self.errors.append(RowError(line, cells["departement"][0], reason))
            departement = derived
        if len(self.errors) > before:
            return None
        assert kind and name and population is not None and identifier and departement
        record = CollectivityRecord(
            identifier, name, kind, population, departement, region_for(departement), siren, line
        )
        known = self.collectivities.setdefault(identifier, record)
        if known == record:
            return known
        for column, attr in _COLLECTIVITY_COLUMNS:
            old, new = str(getattr(known, attr)), str(getattr(record, attr))
            if old != new:
                reason = (
                    f"collectivity {identifier} has {attr} {new!r} here"
                    f" but {old!r} on line {known.line}"
                )
                self.errors.append(RowError(line, cells[column][0], reason))
        return None

    def _service(
        self, line: int, cells: Cells, collectivity: CollectivityRecord | None
    ) -> ServiceRecord | None:
        before = len(self.errors)
        departement = collectivity.departement if collectivity else None
        kind = self._check(line, cells, "service_kind", parse_service_kind, True)
        name = self._check(line, cells, "service_name", str, False)
        email = self._check(line, cells, "email", parse_email, False)
        phone = self._check(line, cells, "phone", lambda v: parse_phone(v, departement), False)
        address = self._check(line, cells, "address", str, False)
        postal_code = self._check(line, cells, "postal_code", parse_postal_code, False)
        city = self._check(line, cells, "city", str, False)
        hours = self._check(line, cells, "opening_hours", parse_opening_hours, False)
        lat = self._check(line, cells, "latitude", lambda v: parse_coordinate(v, 90), False)
        lon = self._check(line, cells, "longitude", lambda v: parse_coordinate(v, 180), False)
        if (lat is None) != (lon is None) and len(self.errors) == before:
            header = cells.get("latitude" if lat is None else "longitude", ("latitude", ""))[0]
            self.errors.append(RowError(line, header, "give latitude and longitude together"))
        if len(self.errors) > before or collectivity is None or kind is None:
            return None
        name = name or service_kind(kind).label_fr
        return ServiceRecord(
            collectivity.insee_code, kind, name, email, phone, address, postal_code, city, hours,
            line, latitude=lat, longitude=lon,
        )  # fmt: skip

    def _identifier(
        self, line: int, cells: Cells, kind: CollectivityKind | None
    ) -> tuple[str | None, str | None, str | None]:
        """(identifier, SIREN, département derived from an INSEE code)."""
        header, value = cells["insee_code"]
        if not value:
            self.errors.append(RowError(line, header, "empty (required)"))
            return None, None, None
        compact = re.sub(r"[\s\u00a0\u202f]", "", value)
        try:
            if kind is CollectivityKind.COMMUNE and re.fullmatch(r"\d{9}", compact):
                raise FieldError(
                    f"a commune is identified by its INSEE code (5 characters), not {value!r}"
                )
            if kind is CollectivityKind.COMMUNE or (kind is None and len(compact) <= 5):
                code = parse_insee_code(value)
                return code, None, departement_of_insee(code)
            if len(compact) != 9 and kind is not None:
                raise FieldError(
                    f"{_KIND_NAMES[kind]} is identified by its SIREN (9 digits), not {value!r}"
                )
            siren = parse_siren(value)
            return siren, siren, None
        except FieldError as exc:
            self.errors.append(RowError(line, header, str(exc)))
            return None, None, None


_COLLECTIVITY_COLUMNS = (
    ("collectivity_name", "name"),
    ("collectivity_kind", "kind"),
    ("population", "population"),
    ("departement", "departement"),
)
