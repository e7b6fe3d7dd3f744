"""Check: ingesting a mailbox stores exactly what another version (or another batch size) does.

    .venv/bin/python bench/same_ingest.py [--ref main] [--count 600] [--batch 200]
                                          [--backend sqlite|postgresql] [--one-by-one]

For a speed change in the ingest pipeline (IMAP, storage, matching, recording), which must
not change a single stored result: a private Dovecot (sim/dovecot.py) whose INBOX holds
``--count`` messages of bench/ingest.py (answers, acknowledgements, bounces, other agents,
replying to its 2,000 contacts) followed by the corpus of real mail (tests/corpus/), all
ingested by ``Tracker.sync_all`` in batches of ``--batch``; then every message row, contact
and contact event is read back (tests/ingest_outcomes.py). Once with ``--ref``'s code (its
tree exported with ``git archive`` and put first on the path), once with this checkout's
(with ``--one-by-one``: batches of one message, not another version). Prints how many
messages, contacts and events differ, names the first ones, exits 1 when any does.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.util
import json
import os
import secrets
import subprocess
import sys
import tempfile
from datetime import timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]


def _load(name: str, path: Path) -> Any:
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def dump(count: int, batch: int, backend: str, pg_url: str) -> None:
    """In the child: ingest, then print the stored outcomes as one JSON document."""
    sys.path.append(str(ROOT))
    sys.path.append(str(ROOT / "bench"))
    from ingest import SENT, USER, make_message, seed_database  # this checkout's mails
    from sqlalchemy import text

    from channels.imap_watcher import WatchConfig
    from runners.tracker import Tracker, TrackingConfig
    from scenarios.catalog import load_catalog
    from scenarios.clock import FixedClock
    from sim.dovecot import DovecotServer
    from storage.db import Database

    loader = _load("loader", ROOT / "tests/corpus/loader.py")
    outcomes = _load("ingest_outcomes", ROOT / "tests/ingest_outcomes.py")
    import random

    rng = random.Random(1)
    raws = [make_message(rng, n)[1] for n in range(count)]
    raws += [m.raw() for m in loader.load_corpus()]

    async def run(dovecot: DovecotServer) -> Any:
        schema = None
        if backend == "sqlite":
            url = f"sqlite:///{Path(tempfile.mkdtemp(prefix='temoin-same-')) / 'same.db'}"
        else:
            url, schema = pg_url, f"bench_same_{secrets.token_hex(4)}"
            admin = Database(url)
            async with admin.engine.begin() as conn:
                await conn.execute(text(f'CREATE SCHEMA "{schema}"'))
            await admin.dispose()
        database = Database(url, schema=schema)
        try:
            await seed_database(database, dovecot)
            config = TrackingConfig(watch=WatchConfig(fetch_batch=batch, timeout=120))
            tracker = Tracker(database, load_catalog(), FixedClock(SENT + timedelta(days=1)),
                              config)  # fmt: skip
            try:
                errors = await tracker.sync_all(census=False)
            finally:
                tracker.close()
            if errors:
                raise SystemExit(f"pipeline errors: {errors}")
            return await outcomes.stored_outcomes(database)
        finally:
            await database.dispose()
            if schema:
                admin = Database(url)
                async with admin.engine.begin() as conn:
                    await conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
                await admin.dispose()

    dovecot = DovecotServer.start()
    try:
        os.environ["TEMOIN_BENCH_PASSWORD"] = dovecot.add_user(USER)
        fill(dovecot, USER, raws)
        print(json.dumps(asyncio.run(run(dovecot))))
    finally:
        dovecot.stop()


def fill(dovecot: Any, user: str, raws: list[bytes]) -> None:
    """Write the messages into the user's INBOX maildir (INTERNALDATE = file mtime), in order."""
    from ingest import SENT

    conn = dovecot.imap(user)
    conn.select("INBOX")
    conn.logout()
    cur = dovecot.root / "mail" / user / "Maildir" / "cur"
    owner = cur.stat()
    for n, raw in enumerate(raws):
        path = cur / f"{1772442000 + n}.M{n}P1.same,S={len(raw)}:2,"
        path.write_bytes(raw)
        os.chown(path, owner.st_uid, owner.st_gid)
        when = (SENT + timedelta(hours=3, seconds=n)).timestamp()
        os.utime(path, (when, when))
    conn = dovecot.imap(user)
    try:
        conn.select("INBOX", readonly=True)
        conn.uid("FETCH", "1:*", "(UID INTERNALDATE RFC822.SIZE)")
    finally:
        conn.logout()


def run(tree: Path | None, args: argparse.Namespace, batch: int) -> dict[str, Any]:
    env = dict(os.environ, PYTHONHASHSEED="0")
    if tree is not None:
        env["PYTHONPATH"] = str(tree)
    command = [sys.executable, __file__, "--dump", "--count", str(args.count), "--batch",
               str(batch), "--backend", args.backend, "--pg-url", args.pg_url]  # fmt: skip
    done = subprocess.run(
        command, capture_output=True, text=True, env=env, check=False, cwd=tree or ROOT
    )
    if done.returncode != 0:
        raise SystemExit(done.stderr[-3000:])
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def compare(theirs: dict[str, Any], ours: dict[str, Any], label: str) -> int:
    differ = 0
    for table in ("messages", "contacts", "events"):
        a, b = theirs[table], ours[table]
        bad = [i for i in range(max(len(a), len(b))) if i >= len(a) or i >= len(b) or a[i] != b[i]]
        differ += len(bad)
        print(f"  {table}: {len(b)} here, {len(a)} in {label}; {len(bad)} differ")
        for i in bad[:5]:
            left = a[i] if i < len(a) else None
            right = b[i] if i < len(b) else None
            keys = sorted(set(left or {}) | set(right or {}))
            diff = {k: ((left or {}).get(k), (right or {}).get(k)) for k in keys
                    if (left or {}).get(k) != (right or {}).get(k)}  # fmt: skip
            print(f"    #{i}: {json.dumps(diff, default=str)[:600]}")
    return differ


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--ref", default="main")
    parser.add_argument("--count", type=int, default=600)
    parser.add_argument("--batch", type=int, default=200)
    parser.add_argument("--backend", default="sqlite", choices=("sqlite", "postgresql"))
    parser.add_argument("--pg-url", default="postgresql://postgres@127.0.0.1:5432/test")
    parser.add_argument("--one-by-one", action="store_true")
    parser.add_argument("--dump", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.dump:
        dump(args.count, args.batch, args.backend, args.pg_url)
        return
    if args.one_by_one:
        label = "batches of one"
        theirs = run(None, args, 1)
    else:
        label = args.ref
        with tempfile.TemporaryDirectory(prefix="temoin-ref-") as folder:
            archive = subprocess.run(
                ["git", "-C", str(ROOT), "archive", args.ref], capture_output=True, check=True
            ).stdout
            subprocess.run(["tar", "-x", "-C", folder], input=archive, check=True)
            theirs = run(Path(folder), args, args.batch)
    ours = run(None, args, args.batch)
    print(f"{args.count} messages of bench/ingest.py + the corpus, {args.backend}, "
          f"batches of {args.batch}, against {label}:")  # fmt: skip
    if compare(theirs, ours, label):
        raise SystemExit(1)


if __name__ == "__main__":
    main()
