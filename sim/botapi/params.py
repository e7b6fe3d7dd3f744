"""Request parameters: a query string plus a form, multipart or JSON body, typed on access.

:func:`parse_params` merges the query string (``GET`` works too) with the body as PTB sends it:
``application/x-www-form-urlencoded`` (httpx's HTML5 escaping undone), ``multipart/form-data``
(file parts become :class:`UploadedFile`) or ``application/json`` (already typed). A body that
cannot be read is a Telegram ``400 Bad Request``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

from sim.botapi.common import bad_request

_INT_RE = re.compile(r"-?\d+")


@dataclass(frozen=True)
class UploadedFile:
    """A file part of a multipart request."""

    filename: str
    content_type: str
    data: bytes


class Params:
    """Request parameters, typed on access.

    PTB sends strings as they are and JSON-encodes every other value inside the form, so the
    type of a field is known only from the method's schema: hence one getter per type. JSON
    bodies (``typed``) already carry typed values.
    """

    def __init__(self, values: Mapping[str, object], *, typed: bool = False) -> None:
        self._values = dict(values)
        self._typed = typed

    def raw(self, name: str) -> object | None:
        return self._values.get(name)

    def get_str(self, name: str) -> str | None:
        value = self._values.get(name)
        if value is None:
            return None
        if isinstance(value, str):
            return value
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, int | float):
            return str(value)
        raise bad_request(f"field {name!r} must be a string")

    def get_int(self, name: str) -> int | None:
        value = self._values.get(name)
        if value is None or value == "":
            return None
        if isinstance(value, bool):
            raise bad_request(f"field {name!r} must be an integer")
        if isinstance(value, int):
            return value
        if isinstance(value, str) and _INT_RE.fullmatch(value.strip()):
            return int(value)
        raise bad_request(f"field {name!r} must be an integer")

    def get_float(self, name: str) -> float | None:
        value = self._values.get(name)
        if value is None or value == "":
            return None
        if isinstance(value, int | float) and not isinstance(value, bool):
            return float(value)
        if isinstance(value, str):
            try:
                return float(value)
            except ValueError:
                pass
        raise bad_request(f"field {name!r} must be a number")

    def get_bool(self, name: str) -> bool:
        value = self._values.get(name)
        if isinstance(value, bool):
            return value
        if isinstance(value, str):
            return value.strip().lower() in {"true", "1"}
        if isinstance(value, int):
            return value != 0
        return False

    def get_json(self, name: str) -> Any:
        value = self._values.get(name)
        if value is None or value == "":
            return None
        if isinstance(value, UploadedFile):
            raise bad_request(f"can't parse {name} JSON object")
        if isinstance(value, str) and not self._typed:
            try:
                return json.loads(value)
            except ValueError:
                raise bad_request(f"can't parse {name} JSON object") from None
        return value

    def get_input_file(self, name: str) -> UploadedFile | str | None:
        value = self._values.get(name)
        if value is None or value == "":
            return None
        if isinstance(value, UploadedFile):
            return value
        if isinstance(value, str):
            if value.startswith("attach://"):
                attached = self._values.get(value[len("attach://") :])
                if isinstance(attached, UploadedFile):
                    return attached
                raise bad_request(f"file {value} not found in the request")
            return value
        raise bad_request(f"field {name!r} must be a file or a string")

    def required_int(self, name: str) -> int:
        value = self.get_int(name)
        if value is None:
            raise bad_request(f"{name} is empty")
        return value

    def required_str(self, name: str, description: str | None = None) -> str:
        value = self.get_str(name)
        if not value:
            raise bad_request(description or f"{name} is empty")
        return value

    def required_float(self, name: str) -> float:
        value = self.get_float(name)
        if value is None:
            raise bad_request(f"{name} is empty")
        return value


def parse_params(content_type: str, query: str, body: bytes) -> Params:
    """The parameters of one request: its query string, then its body by ``Content-Type``."""
    values: dict[str, object] = dict(parse_qsl(query, keep_blank_values=True))
    mime = content_type.split(";")[0].strip().lower()
    if mime == "application/json":
        if not body.strip():
            return Params(values)
        try:
            decoded = json.loads(body)
        except ValueError:
            raise bad_request("can't parse JSON body") from None
        if not isinstance(decoded, dict):
            raise bad_request("the JSON body must be an object")
        values.update(decoded)
        return Params(values, typed=True)
    if mime == "multipart/form-data":
        m = re.search(r'boundary="?([^";]+)"?', content_type)
        if m is None:
            raise bad_request("multipart body without boundary")
        values.update(parse_multipart(body, m.group(1)))
    elif body:
        try:
            values.update(parse_qsl(body.decode("utf-8"), keep_blank_values=True))
        except UnicodeDecodeError:
            raise bad_request("request body is not UTF-8") from None
    return Params(values)


def _decode_form_param(value: str) -> str:
    # httpx escapes form parameters the HTML5 way: '"' -> %22, control characters -> %XX.
    return re.sub(r"%(22|[01][0-9A-Fa-f])", lambda m: chr(int(m.group(1), 16)), value)


def parse_multipart(body: bytes, boundary: str) -> dict[str, object]:
    values: dict[str, object] = {}
    delimiter = b"--" + boundary.encode("latin-1")
    chunks = body.split(delimiter)
    for chunk in chunks[1:]:
        if chunk.startswith(b"--"):
            break
        if chunk.startswith(b"\r\n"):
            chunk = chunk[2:]
        head, sep, content = chunk.partition(b"\r\n\r\n")
        if not sep:
            raise bad_request("malformed multipart body")
        if content.endswith(b"\r\n"):
            content = content[:-2]
        headers: dict[str, str] = {}
        for line in head.decode("utf-8", "replace").split("\r\n"):
            key, _, val = line.partition(":")
            headers[key.strip().lower()] = val.strip()
        disposition = headers.get("content-disposition", "")
        params = {
            m.group(1).lower(): _decode_form_param(m.group(2).replace("\\\\", "\\"))
            for m in re.finditer(r'([A-Za-z*]+)="((?:[^"\\]|\\.)*)"', disposition)
        }
        name = params.get("name")
        if name is None:
            continue
        if "filename" in params:
            values[name] = UploadedFile(
                filename=params["filename"],
                content_type=headers.get("content-type", "application/octet-stream"),
                data=content,
            )
        else:
            values[name] = content.decode("utf-8")
    return values
