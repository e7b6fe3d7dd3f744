"""How long the command line takes to answer: ``--help`` and ``temoin mail inspect ONE.eml``.

    .venv/bin/python bench/startup.py [--runs 15]

Each command runs ``--runs`` times in a fresh process; the best and the median wall times are
printed beside the baseline of the same run, ``python -c pass`` (the interpreter's own start),
and their ratio to it. Targets (issue "The house"): every ``--help`` under 0.3 s and ``mail
inspect`` of one file under 0.5 s on an idle machine; the load average is printed because this
machine is shared. ``-X importtime`` on a command shows what it loads, e.g.
``.venv/bin/python -X importtime -m temoin --help 2>&1 | sort -t'|' -k2 -n | tail``.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
SAMPLE = ROOT / "examples" / "mail" / "answer-outlook-html.eml"
GROUPS = ("db", "import", "scenarios", "campaign", "demo", "mail", "personas", "letters",
          "auditors", "observations", "triage")  # fmt: skip
COMMANDS = ("worker", "bot", "stats", "export", "report", "review")


def timed(argv: list[str], runs: int) -> tuple[float, float]:
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    seconds: list[float] = []
    for _ in range(runs):
        began = time.perf_counter()
        done = subprocess.run(argv, capture_output=True, cwd=ROOT, env=env, check=False)
        seconds.append(time.perf_counter() - began)
        if done.returncode != 0:
            raise SystemExit(f"{' '.join(argv)} failed: {done.stderr.decode()[-500:]}")
    return min(seconds), statistics.median(seconds)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--all", action="store_true", help="every command group's --help too")
    args = parser.parse_args()
    temoin = [PYTHON, "-m", "temoin"]
    cases: list[tuple[str, list[str], float]] = [
        ("python -c pass (baseline)", [PYTHON, "-c", "pass"], 0.0),
        ("temoin --help", [*temoin, "--help"], 0.3),
        ("temoin campaign show --help", [*temoin, "campaign", "show", "--help"], 0.3),
        ("temoin stats --help", [*temoin, "stats", "--help"], 0.3),
        (f"temoin mail inspect {SAMPLE.name}", [*temoin, "mail", "inspect", str(SAMPLE)], 0.5),
    ]
    if args.all:
        cases += [(f"temoin {g} --help", [*temoin, g, "--help"], 0.3) for g in GROUPS]
        cases += [(f"temoin {c} --help", [*temoin, c, "--help"], 0.3) for c in COMMANDS]
    print(f"load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs; {args.runs} runs each")
    print(f"{'command':<44} {'best s':>7} {'median s':>9} {'× pass':>7} {'target':>7}")
    baseline = 0.0
    for label, argv, target in cases:
        best, median = timed(argv, args.runs)
        if not baseline:
            baseline = best
        verdict = "" if not target else ("met" if best < target else "MISSED")
        print(f"{label:<44} {best:7.3f} {median:9.3f} {best / baseline:7.1f} "
              f"{target or '':>7} {verdict}")  # fmt: skip
    print(f"load average {os.getloadavg()[0]:.2f} at the end")


if __name__ == "__main__":
    main()
