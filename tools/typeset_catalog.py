"""Set French typography in the scenario catalogue's reader-facing texts, in place.

    .venv/bin/python tools/typeset_catalog.py [--check]

Applies ``scenarios.typography.french`` to what coordinators, auditors and collectivities
read (titles, descriptions, grid labels, hints and choice labels, expected elements' labels,
improvement tips), line by line so that the files keep their layout and comments. Left as
written: what a persona sends (``wordings``, ``followup``: a citizen types with an ordinary
keyboard, and perfect typography would give the mystery citizen away), the matching
``patterns`` and every code (ids, values, conditions). Every file is reloaded after the
change and compared with the texts ``french`` should give; a file that would differ anywhere
else is not written.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path
from typing import Any

import yaml

from scenarios.typography import french

CATALOG = Path(__file__).resolve().parent.parent / "scenarios" / "catalog"
PROSE = frozenset({"title", "description", "label", "hint", "improvement_tips"})
_KEY = re.compile(r"^(\s*(?:- )?)([a-z_]+):( ?)(.*)$")
_FLOW_LABEL = re.compile(r"(label: )([^,}]+)")
_ITEM = re.compile(r"^(\s*- )(.*)$")


def _typeset_value(value: str) -> str:
    if not value or value in (">", "|", ">-", "|-"):
        return value
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
        return value[0] + french(value[1:-1]) + value[0]
    return french(value)


def typeset(text: str) -> str:
    """``text`` (a scenario file) with its prose typeset; everything else as it was."""
    out: list[str] = []
    prose_indent: int | None = None  # the lines below a prose key (a block, a list)
    for line in text.split("\n"):
        stripped = line.strip()
        indent = len(line) - len(line.lstrip())
        if not stripped or stripped.startswith("#"):
            out.append(line)
            continue
        if prose_indent is not None and indent > prose_indent:
            item = _ITEM.match(line)
            if item:
                out.append(item.group(1) + _typeset_value(item.group(2)))
            else:
                out.append(" " * indent + french(stripped))
            continue
        prose_indent = None
        if "{" in stripped and "label: " in stripped:  # - {value: x, label: Très aimable}
            out.append(_FLOW_LABEL.sub(lambda m: m.group(1) + french(m.group(2)), line))
            continue
        key = _KEY.match(line)
        if key and key.group(2) in PROSE:
            prefix, name, space, value = key.groups()
            prose_indent = indent + (2 if prefix.strip() else 0)
            out.append(f"{prefix}{name}:{space}{_typeset_value(value)}")
            continue
        out.append(line)
    return "\n".join(out)


def _expected(node: Any, key: str = "") -> Any:
    if isinstance(node, dict):
        return {k: _expected(v, str(k)) for k, v in node.items()}
    if isinstance(node, list):
        return [_expected(v, key) for v in node]
    if isinstance(node, str) and key in PROSE:
        return french(node)
    return node


def main(argv: list[str]) -> int:
    check = "--check" in argv
    changed = 0
    for path in sorted(CATALOG.glob("*.yaml")):
        text = path.read_text(encoding="utf-8")
        new = typeset(text)
        want = _expected(yaml.safe_load(text))
        got = yaml.safe_load(new)
        if got != want:
            print(f"{path}: the line-by-line change does not give the expected texts; not written")
            return 1
        if new != text:
            changed += 1
            if not check:
                path.write_text(new, encoding="utf-8")
    print(f"{changed} file(s) {'to change' if check else 'changed'}")
    return 1 if check and changed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
