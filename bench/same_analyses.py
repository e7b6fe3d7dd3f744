"""Check: this checkout parses and classifies every message exactly as another version does.

    .venv/bin/python bench/same_analyses.py [--ref main] [--bench-messages 300]

For a speed change in the parser or the classifier, which must not change a single result:
the corpus of real mail (tests/corpus/, as bench/classify.py reads it) and ``--bench-messages``
messages of bench/ingest.py are analysed (``channels.analysis.analyse``) by ``--ref`` (its tree
exported with ``git archive`` into a temporary folder and put first on the path) and by this
checkout, each in a process of its own. Prints how many messages differ in class (kind and
unsure flag) and how many in anything at all (the whole ``Analysis``: every parsed field, the
evidence, the bounce), names the first ones, and exits 1 when any differs.
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.util
import json
import os
import random
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def dump(count: int) -> None:
    """In the child: one JSON line per message: name, kind, unsure, digest of the analysis."""
    sys.path.append(str(ROOT))
    sys.path.append(str(ROOT / "bench"))
    from ingest import make_message

    from channels.analysis import analyse

    # This checkout's corpus, whichever tree the code comes from.
    spec = importlib.util.spec_from_file_location("loader", ROOT / "tests/corpus/loader.py")
    assert spec is not None and spec.loader is not None
    loader = importlib.util.module_from_spec(spec)
    sys.modules["loader"] = loader  # dataclasses look their module up
    spec.loader.exec_module(loader)
    messages = [(m.path, m.raw()) for m in loader.load_corpus()]
    rng = random.Random(1)
    messages += [(f"bench/{n}", make_message(rng, n)[1]) for n in range(count)]
    for name, raw in messages:
        analysis = analyse(raw)
        result = analysis.classification
        print(
            json.dumps(
                [
                    name,
                    result.kind if result else None,
                    bool(getattr(result, "unsure", False)) if result else None,
                    hashlib.sha256(repr(analysis).encode()).hexdigest(),
                ]
            )
        )


def run(tree: Path | None, count: int) -> dict[str, tuple[str | None, bool | None, str]]:
    env = dict(os.environ, PYTHONHASHSEED="0")
    if tree is not None:
        env["PYTHONPATH"] = str(tree)
    done = subprocess.run(
        [sys.executable, __file__, "--dump", str(count)],
        capture_output=True,
        text=True,
        env=env,
        check=False,
        cwd=tree or ROOT,
    )
    if done.returncode != 0:
        raise SystemExit(done.stderr[-3000:])
    rows = [json.loads(line) for line in done.stdout.splitlines()]
    return {name: (kind, unsure, digest) for name, kind, unsure, digest in rows}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--ref", default="main")
    parser.add_argument("--bench-messages", type=int, default=300)
    parser.add_argument("--dump", type=int, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.dump is not None:
        dump(args.dump)
        return
    with tempfile.TemporaryDirectory(prefix="temoin-ref-") as folder:
        archive = subprocess.run(
            ["git", "-C", str(ROOT), "archive", args.ref], capture_output=True, check=True
        ).stdout
        subprocess.run(["tar", "-x", "-C", folder], input=archive, check=True)
        theirs = run(Path(folder), args.bench_messages)
    ours = run(None, args.bench_messages)
    if theirs.keys() != ours.keys():
        raise SystemExit("the two runs did not read the same messages")
    classes = [n for n in ours if ours[n][:2] != theirs[n][:2]]
    anything = [n for n in ours if ours[n] != theirs[n]]
    print(
        f"{len(ours)} messages ({len(ours) - args.bench_messages} of the corpus, "
        f"{args.bench_messages} of bench/ingest.py) against {args.ref}: "
        f"{len(classes)} differ in class, {len(anything)} in anything"
    )
    for name in (classes or anything)[:20]:
        print(f"  {name}: {args.ref} {theirs[name][:2]}, here {ours[name][:2]}")
    if anything:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
