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
import io
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TypeVar

from scenarios.directory_fields import (
    KIND_NAMES,
    MAX_POPULATION,
    REGION_OF_DEPARTEMENT,
    FieldError,
    departement_of_insee,
    fold_header,
    luhn_ok,
    parse_collectivity_kind,
    parse_coordinate,
    parse_departement,
    parse_email,
    parse_insee_code,
    parse_opening_hours,
    parse_phone,
    parse_population,
    parse_postal_code,
    parse_service_kind,
    parse_siren,
    region_for,
)
from scenarios.domain import CollectivityKind
from scenarios.formatting import Formats
from scenarios.i18n import Translator
from scenarios.service_kinds import service_kind
from scenarios.text import fold_key

__all__ = [
    "MAX_POPULATION",
    "REGION_OF_DEPARTEMENT",
    "CollectivityRecord",
    "FieldError",
    "ImportResult",
    "RowError",
    "ServiceRecord",
    "decode",
    "departement_of_insee",
    "luhn_ok",
    "parse_collectivity_kind",
    "parse_coordinate",
    "parse_departement",
    "parse_directory",
    "parse_email",
    "parse_insee_code",
    "parse_opening_hours",
    "parse_phone",
    "parse_population",
    "parse_postal_code",
    "parse_service_kind",
    "parse_siren",
    "region_for",
    "resolve_header",
    "service_identity",
    "sniff_delimiter",
]

T = TypeVar("T")


def service_identity(name: str) -> str:
    """What makes two names one service: « Accueil », « ACCUEIL » and « accueil » are one,
    and so are « Hôtel-de-Ville » and « hotel de ville ». The name shown is kept as written."""
    return fold_key(name)


@dataclass(frozen=True, slots=True)
class RowError:
    """One problem of the file. ``reason`` is English (logs, programmers); ``code`` and
    ``params`` say it to the reader: ``said(t)``, from ``directory.error.<code>``."""

    line: int
    column: str | None  # the header as written in the file; None for file-wide problems
    reason: str
    code: str = ""
    params: Mapping[str, str | int] = field(default_factory=dict)

    def __str__(self) -> str:
        where = (
            f"line {self.line}"
            if self.column is None
            else f"line {self.line}, column {self.column}"
        )
        return f"{where}: {self.reason}"

    def said(self, t: Translator, number: Callable[[int], str] | None = None) -> str:
        """The reason in ``t``'s language (its English words when it has no code); numbers
        written by ``number``, by default in the language's way (« 20 000 000 »)."""
        if not self.code:
            return self.reason
        if number is None:
            number = Formats(t.locale, "UTC").number
        params = {k: number(v) if isinstance(v, int) else v for k, v in self.params.items()}
        if "field" in params:
            params["field"] = t(f"directory.field.{params['field']}")
        return t(f"directory.error.{self.code}", **params)


def _error(
    line: int, column: str | None, reason: str, code: str, /, **params: str | int
) -> RowError:
    return RowError(line, column, reason, code, params)


def _field_error(line: int, column: str, exc: FieldError) -> RowError:
    return RowError(line, column, str(exc), exc.code, exc.params)


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


_HEADER_LOOKUP: dict[str, str] = {}
for _field, (_required, _aliases) in _COLUMNS.items():
    for _alias in (_field, *_aliases):
        _HEADER_LOOKUP[fold_header(_alias)] = _field


def resolve_header(text: str) -> str | None:
    """The field a header names (``"Code INSEE"`` -> ``"insee_code"``), or None."""
    return _HEADER_LOOKUP.get(fold_header(text))


# --- the file -----------------------------------------------------------------------------


class _FileProblem(Exception):
    def __init__(self, message: str, code: str) -> None:
        super().__init__(message)
        self.code = code


def decode(data: bytes) -> tuple[str, str]:
    """Text and encoding name: UTF-8 (BOM or not) first, Windows-1252 when UTF-8 fails."""
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        raise _FileProblem(
            "the file is UTF-16: export it as CSV UTF-8 or CSV (point-virgule)", "utf16"
        )
    try:
        text = data.decode("utf-8-sig")
        encoding = "UTF-8 with BOM" if data.startswith(codecs.BOM_UTF8) else "UTF-8"
    except UnicodeDecodeError:
        try:
            text, encoding = data.decode("cp1252"), "Windows-1252"
        except UnicodeDecodeError as exc:
            raise _FileProblem(
                "the file is neither UTF-8 nor Windows-1252 text", "encoding"
            ) from exc
    if "\x00" in text:
        raise _FileProblem("the file holds NUL bytes: it is not a CSV export", "nul")
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
            errors.append(_error(1, f"#{index + 1}", "column without a header", "no_header"))
            continue
        target = resolve_header(shown)
        if target is None:
            known = ", ".join(_COLUMNS)
            errors.append(
                _error(1, shown, f"unknown column (known: {known})", "unknown_column", known=known)
            )
        elif target in seen:
            errors.append(
                _error(1, shown, f"{target} is already given by {seen[target]!r}",
                       "column_twice", target=target, first=seen[target])
            )  # fmt: skip
        else:
            seen[target] = shown
            fields[index] = target
    for name, (required, _) in _COLUMNS.items():
        if required and name not in seen:
            errors.append(_error(1, name, "missing required column", "missing_column"))
    return fields, errors


def parse_directory(data: bytes) -> ImportResult:
    """Decode, parse and validate a services spreadsheet; see the module docstring."""
    try:
        text, encoding = decode(data)
    except _FileProblem as exc:
        return ImportResult(errors=(_error(1, None, str(exc), exc.code),))
    if not text.strip():
        empty = _error(1, None, "the file is empty", "empty")
        return ImportResult(errors=(empty,), encoding=encoding)
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
                builder.errors.append(
                    _error(line, None, reason, "cells", cells=len(row), columns=len(header),
                           delimiter=delimiter)
                )  # fmt: skip
                continue
            # A short row (trailing empty cells trimmed by the exporter) reads as empty cells.
            cells = {
                target: (header[i].strip(), " ".join(row[i].split()) if i < len(row) else "")
                for i, target in fields.items()
            }
            builder.add_row(line, cells)
    except csv.Error as exc:
        # The csv module's only error with our dialect (non-strict, newline=""): a cell over
        # its size limit, most often a quote never closed. Its words are English: a kind.
        limit = re.search(r"field larger than field limit \((\d+)\)", str(exc))
        code, params = ("malformed", {"limit": int(limit[1])}) if limit else ("malformed_other", {})
        builder.errors.append(
            _error(reader.line_num, None, f"malformed CSV: {exc}", code, **params)
        )
    if not builder.rows and not builder.errors:
        builder.errors.append(_error(1, None, "the file has a header but no rows", "no_rows"))
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
            self.errors.append(
                _error(line, header, reason, "service_twice" if not same else "service_twice_as",
                       name=service.name, kind=service.kind, code=collectivity.insee_code,
                       first=known.line, known=known.name)
            )  # fmt: skip
            return
        self.services[key] = service

    def _check(
        self, line: int, cells: Cells, name: str, parse: Callable[[str], T], required: bool
    ) -> T | None:
        header, value = cells.get(name, (name, ""))
        if not value:
            if required:
                self.errors.append(_error(line, header, "empty (required)", "required"))
            return None
        limit = _MAX_LENGTH.get(name)
        if limit is not None and len(value) > limit:
            self.errors.append(
                _error(line, header, f"longer than {limit} characters", "too_long", most=limit)
            )
            return None
        try:
            return parse(value)
        except FieldError as exc:
            self.errors.append(_field_error(line, header, exc))
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
                self.errors.append(
                    _error(line, cells["departement"][0], reason, "departement_mismatch",
                           given=departement, code=str(identifier), derived=derived)
                )  # fmt: skip
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
                self.errors.append(
                    _error(line, cells[column][0], reason, "collectivity_differs",
                           code=identifier, field=attr, value=new, first_value=old,
                           first=known.line)
                )  # fmt: skip
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
            self.errors.append(
                _error(line, header, "give latitude and longitude together", "coordinates_pair")
            )
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
            self.errors.append(_error(line, header, "empty (required)", "required"))
            return None, None, None
        compact = re.sub(r"[\s\u00a0\u202f]", "", value)
        try:
            if kind is CollectivityKind.COMMUNE and re.fullmatch(r"\d{9}", compact):
                raise FieldError(
                    f"a commune is identified by its INSEE code (5 characters), not {value!r}",
                    "commune_siren",
                    value=value,
                )
            if kind is CollectivityKind.COMMUNE or (kind is None and len(compact) <= 5):
                code = parse_insee_code(value)
                return code, None, departement_of_insee(code)
            if len(compact) != 9 and kind is not None:
                raise FieldError(
                    f"{KIND_NAMES[kind]} is identified by its SIREN (9 digits), not {value!r}",
                    f"needs_siren_{kind.value}",
                    value=value,
                )
            siren = parse_siren(value)
            return siren, siren, None
        except FieldError as exc:
            self.errors.append(_field_error(line, header, exc))
            return None, None, None


_COLLECTIVITY_COLUMNS = (
    ("collectivity_name", "name"),
    ("collectivity_kind", "kind"),
    ("population", "population"),
    ("departement", "departement"),
)
