#!/usr/bin/env python3
"""Smoke check of the production image without a Docker engine: it starts and prints PDFs.

Usage, as root on Linux (a few minutes; the README's "Production" says when to run it):
    python3 tools/smoke_image.py [--workdir DIR] [--keep]

Flow:
1. ``rootfs.Builder`` builds every stage of the Dockerfile as a root file system from Debian
   packages and runs the Dockerfile's own instructions in it (see rootfs.py).
2. The image is run as ``docker run`` would with docker-compose.yml's options: its USER, its
   environment, the root file system read-only but ``WORKDIR/var`` and a tmpfs ``/tmp``;
   examples/ read-only at /data. Checks: the default command, ``--version``, ``db upgrade``
   (the default SQLite database, under var/), ``import services``, ``campaign plan``,
   ``letters print``, ``report --out X.pdf``, ``export --format parquet``, a report chart
   (matplotlib) through WeasyPrint, and a write outside var/, which must fail. A command that
   fails, or writes to stderr, fails the check.
3. Every PDF written is read back on the host (poppler-utils): pages, size, fonts (all
   embedded, DejaVu among them), its first line of text.

Needs mmdebstrap and poppler-utils (installed with apt-get when missing) and the network to
Debian's archive and to PyPI. The work directory (default /tmp/temoin-smoke-image, never in
the repository) is removed at the end unless --keep. Exit 0 when every check passed.
"""

from __future__ import annotations

import argparse
import csv
import os
import shlex
import shutil
import subprocess
import sys
import time
import tomllib
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from rootfs import Builder, Mounts, SmokeError, State, host, in_root

REPO = Path(__file__).resolve().parent.parent
EXAMPLES = REPO / "examples"

# A report chart as `temoin report` draws one when answers have come in, through WeasyPrint.
CHART = """\
import matplotlib, weasyprint
from weasyprint.text.ffi import pango
from reports.charts import km_svg
from reports.survival import kaplan_meier
svg = km_svg([("Courriel", kaplan_meier([0, 1, 1, 2, 3, 5, 8], [10, 12]))],
             xlabel="Délai (jours ouvrés)", ylabel="Demandes répondues")
html = "<meta charset=utf-8><h1>Délai de réponse « courriel »</h1>" + svg
weasyprint.HTML(string=html).write_pdf("var/chart.pdf")
v = pango.pango_version()
print(f"var/chart.pdf: WeasyPrint {weasyprint.__version__}, "
      f"Pango {v // 10000}.{v // 100 % 100}.{v % 100}, "
      f"matplotlib {matplotlib.__version__}")
"""


def say(message: str) -> None:
    print(message, flush=True)


def ensure_host_tools() -> None:
    wanted = {"mmdebstrap": "mmdebstrap", "pdffonts": "poppler-utils", "unshare": "util-linux"}
    missing = sorted({pkg for cmd, pkg in wanted.items() if shutil.which(cmd) is None})
    if not missing:
        return
    say(f"installing {' '.join(missing)} (Debian packages) on this machine")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for argv in (["apt-get", "update", "-qq"], ["apt-get", "install", "-y", "-qq", *missing]):
        subprocess.run(argv, env=env, check=True, stdout=subprocess.DEVNULL)


def checks() -> list[tuple[list[str] | None, list[str], bool]]:
    """(entrypoint override, arguments, should succeed), as for ``docker run``.

    The README's production commands that need no mail server nor Telegram, on the example
    campaign: its first two weeks of letters, the national report and the first
    collectivity's own, the exports of step 9 (openpyxl writes its temporary files to /tmp).
    """
    plan = tomllib.loads((EXAMPLES / "campaign.toml").read_text(encoding="utf-8"))
    name = plan["name"]
    until = (plan["window"]["start"] + timedelta(days=11)).isoformat()
    with (EXAMPLES / "services.csv").open(encoding="utf-8-sig", newline="") as rows:
        reader = csv.reader(rows, delimiter=";")
        next(reader)  # the header
        insee = next(reader)[0]  # the first collectivity's code
    return [
        (None, [], True),  # the image's default command
        (None, ["--version"], True),
        (["id"], [], True),
        (None, ["db", "upgrade"], True),
        (None, ["import", "services", "/data/services.csv"], True),
        (None, ["campaign", "plan", "/data/campaign.toml"], True),
        (None, ["letters", "print", name, "--out", "var/letters", "--until", until], True),
        (None, ["stats", name, "--by", "channel"], True),
        (None, ["report", name, "--out", "var/rapport.pdf"], True),
        (
            None,
            ["report", name, "--collectivity", insee, "--out", f"var/rapport-{insee}.pdf"],
            True,
        ),
        (None, ["export", name, "--format", "xlsx", "--out", "var/contacts.xlsx"], True),
        (None, ["export", name, "--format", "parquet", "--out", "var/contacts.parquet"], True),
        (["python", "-c"], [CHART], True),
        (["sh", "-c"], ["touch /srv/temoin/outside-var"], False),
    ]


def run_image(image: State) -> list[str]:
    """The checks in the built image; returns the failures."""
    var = str(Path(image.workdir, "var"))
    (image.root / "data").mkdir(exist_ok=True)  # the mount point, as docker makes it
    mounts = Mounts(
        read_only=True,
        writable=(var,),
        tmpfs=("/tmp",),
        binds=((EXAMPLES, "/data"),),
        read_only_binds=("/data",),
    )
    say(f"\nrunning the image as {image.user}, / read-only, {var} and /tmp writable, "
        f"examples/ at /data")  # fmt: skip
    failures = []
    for entrypoint, args, should_pass in checks():
        argv = [*(entrypoint or image.entrypoint), *(args or ([] if entrypoint else image.cmd))]
        t0 = time.monotonic()
        done = in_root(image, argv, mounts)
        took = time.monotonic() - t0
        shown = shlex.join(argv) if argv[:2] != ["python", "-c"] else "python -c CHART"
        say(f"$ {shown}    [exit {done.returncode}, {took:.1f} s]")
        for line in done.stdout.splitlines():
            say(f"  {line}")
        for line in done.stderr.splitlines():
            say(f"  stderr| {line}")
        if should_pass and (done.returncode or done.stderr.strip()):
            failures.append(f"{shown}: exit {done.returncode}, stderr {done.stderr.strip()!r}")
        if not should_pass and (done.returncode == 0 or "Read-only file system" not in done.stderr):
            failures.append(f"{shown}: should have failed on a read-only file system")
    return failures


def read_pdfs(var: Path) -> list[str]:
    """Pages, size, fonts and first text line of every PDF under var/; returns the failures."""
    failures = []
    pdfs = sorted(var.rglob("*.pdf"))
    if not pdfs:
        return ["no PDF was written"]
    say(f"\nPDFs written in the image ({len(pdfs)}), read back with poppler-utils:")
    for pdf in pdfs:
        info = host(["pdfinfo", str(pdf)])
        pages = next((ln.split()[-1] for ln in info.splitlines() if ln.startswith("Pages:")), "0")
        rows = host(["pdffonts", str(pdf)]).splitlines()[2:]
        fonts = sorted({row.split()[0].split("+")[-1] for row in rows})
        embedded = all(row.split()[-5] == "yes" for row in rows)
        text = host(["pdftotext", "-l", "1", str(pdf), "-"]).split("\n")
        first = next((line.strip() for line in text if line.strip()), "")
        rel = pdf.relative_to(var.parent)
        say(f"  {rel}: {pages} page(s), {pdf.stat().st_size:,} bytes, fonts {', '.join(fonts)}"
            f"{'' if embedded else ' (NOT all embedded)'}; text: {first[:60]!r}")  # fmt: skip
        if int(pages) < 1 or not embedded or not any("DejaVu" in f for f in fonts) or not first:
            failures.append(f"{rel}: pages {pages}, fonts {fonts}, embedded {embedded}")
    return failures


def report_image(image: State) -> None:
    listed = (REPO / "tools/runtime-packages.txt").read_text(encoding="utf-8").splitlines()
    runtime = [line.split("#")[0].strip() for line in listed if line.split("#")[0].strip()]
    installed = host(["chroot", str(image.root), "dpkg-query", "-W", "-f", "${Package}\n"])
    size = host(["du", "-sh", "--exclude=./proc", str(image.root)]).split()[0]
    say(f"\nimage: {len(installed.split())} Debian packages, {size} on disk; "
        f"tools/runtime-packages.txt: {len(runtime)} ({', '.join(runtime)})")  # fmt: skip


def remove(work: Path) -> None:
    """Delete the work directory, unless something is still mounted under it (/dev!)."""
    mounted = [
        line.split()[4]
        for line in Path("/proc/self/mountinfo").read_text(encoding="utf-8").splitlines()
        if line.split()[4] == str(work) or line.split()[4].startswith(f"{work}/")
    ]
    if mounted:
        raise SmokeError(f"not removing {work}: {mounted[0]} is mounted")
    subprocess.run(["rm", "-rf", "--one-file-system", str(work)], check=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/temoin-smoke-image"))
    parser.add_argument("--keep", action="store_true", help="Keep the root file systems.")
    args = parser.parse_args()
    work: Path = args.workdir.resolve()
    if os.geteuid() != 0:
        print("smoke_image: run as root (mmdebstrap, chroot, mounts)", file=sys.stderr)
        return 2
    if work == REPO or REPO in work.parents:
        print("smoke_image: the work directory must be outside the repository", file=sys.stderr)
        return 2
    started = time.monotonic()
    ensure_host_tools()
    remove(work)
    work.mkdir(parents=True)
    failures: list[str] = []
    times: list[str] = []
    try:
        image = Builder(REPO / "Dockerfile", work, say).build()
        times.append(f"build {time.monotonic() - started:.0f} s")
        report_image(image)
        t0 = time.monotonic()
        failures += run_image(image)
        failures += read_pdfs(image.root / Path(image.workdir, "var").relative_to("/"))
        times.append(f"checks {time.monotonic() - t0:.0f} s")
    except SmokeError as exc:
        failures.append(str(exc))
    finally:
        if not args.keep:
            t0 = time.monotonic()
            remove(work)
            times.append(f"clean-up {time.monotonic() - t0:.0f} s")
    for failure in failures:
        print(f"FAILED: {failure}", file=sys.stderr)
    times.append(
        f"total {time.monotonic() - started:.0f} s (load average {os.getloadavg()[0]:.1f})"
    )
    say(f"\ntimes: {', '.join(times)}")
    say("smoke check: " + ("FAILED" if failures else "passed"))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
