"""Benchmark: what one hostile 10 MB message costs the parser, against an ordinary reply.

    .venv/bin/python bench/hostile_mail.py [--size-mb 10] [--uncapped]

For each shape below, a message of ``--size-mb`` megabytes is built in memory and timed
through ``parse_message`` + ``classify`` (what the watcher and ``temoin mail inspect`` do),
best of three; the baseline, measured in the same run, is the same pipeline over the
ordinary replies of ``examples/mail`` (mean per message). Prints seconds per message, the
ratio to the baseline and whether the result says ``truncated``.

Shapes: ``<p>`` then ``&amp;`` repeated (issue 13: 40 s before the cap), ``<td>``,
``<br>``, ``<b>`` and ``<div>`` repeated, and plain text lines. ``--uncapped`` also times
nh3 alone over the whole HTML of the ``&amp;`` shape at one tenth of the size, the way it
was called before ``MAX_HTML_CHARS`` (a 10 MB run takes minutes).
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from pathlib import Path

from channels.classify import classify
from channels.html_text import _CLEANER, MAX_HTML_CHARS
from channels.mime import MAX_TEXT_CHARS, parse_message

HEADERS = (
    "From: Mairie <accueil@mairie.example>\r\nTo: claire@persona.example\r\n"
    "Subject: Re: Demande\r\nMessage-ID: <x@mairie.example>\r\n"
    "Date: Mon, 02 Mar 2026 10:00:00 +0100\r\nMIME-Version: 1.0\r\n"
)
SHAPES: dict[str, tuple[str, str, str]] = {
    "p + &amp;": ("html", "<p>{}", "&amp;"),
    "<td>": ("html", "<table><tr>{}", "<td>x"),
    "<br>": ("html", "<p>{}", "a<br>"),
    "<b>": ("html", "{}", "<b>"),
    "<div>": ("html", "{}", "<div>"),
    "plain lines": ("plain", "{}", "> cité\r\n"),
}


def message(kind: str, frame: str, unit: str, size: int) -> bytes:
    body = frame.format(unit * (size // len(unit.encode())))
    ctype = "text/html" if kind == "html" else "text/plain"
    head = HEADERS + f"Content-Type: {ctype}; charset=utf-8\r\n\r\n"
    return (head + body).encode()


def best_of(runs: int, work: Callable[[], object]) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        work()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size-mb", type=float, default=10.0)
    parser.add_argument("--uncapped", action="store_true")
    args = parser.parse_args()
    size = int(args.size_mb * 1_000_000)

    corpus = [p.read_bytes() for p in sorted(Path("examples/mail").glob("*.eml"))]
    baseline = best_of(3, lambda: [classify(parse_message(raw)) for raw in corpus]) / len(corpus)
    print(f"caps: HTML {MAX_HTML_CHARS:,} characters, text {MAX_TEXT_CHARS:,} characters")
    print(f"baseline: {len(corpus)} ordinary replies, {baseline * 1000:.2f} ms per message")
    print(f"{'shape':<14}{'MB':>6}{'seconds':>10}{'x baseline':>12}  truncated")
    for name, (kind, frame, unit) in SHAPES.items():
        raw = message(kind, frame, unit, size)
        parsed = parse_message(raw)
        seconds = best_of(3, lambda raw=raw: classify(parse_message(raw)))
        print(
            f"{name:<14}{len(raw) / 1e6:>6.1f}{seconds:>10.3f}{seconds / baseline:>12.0f}"
            f"  {'yes' if parsed.truncated else 'no'}"
        )
    if args.uncapped:
        html = "<p>" + "&amp;" * (size // 10 // 5)
        seconds = best_of(1, lambda: _CLEANER.clean(html))
        print(f"uncapped nh3 over {len(html) / 1e6:.1f} MB of '&amp;': {seconds:.2f} s")


if __name__ == "__main__":
    main()
