"""The evaluation corpus: intact, listed, and classified at least as well as it was.

The floors below are the per-class figures bench/classify.py printed when they were set, a
little lowered, so that a change that costs real mail its class fails here instead of
passing unnoticed. Raise them when the classifier improves; never lower them to pass.
"""

from __future__ import annotations

from collections import Counter

import pytest

from channels.analysis import analyse
from tests.corpus.loader import KINDS, CorpusError, load_corpus, unlisted_files

# class -> (minimum precision, minimum recall), on the whole corpus
FLOORS = {
    "answer": (0.99, 0.95),
    "acknowledgement": (0.99, 0.99),
    "out_of_office": (0.99, 0.99),
    "bounce": (0.99, 0.99),
    "read_receipt": (0.99, 0.99),
    "redirect": (0.99, 0.99),
    "other": (0.95, 0.99),
}


def test_every_file_is_listed_intact_with_its_source() -> None:
    messages = load_corpus()
    assert len(messages) >= 50
    assert unlisted_files(messages) == []
    for message in messages:
        message.raw()  # raises CorpusError on a sha256 that is not the manifest's
        assert len(message.commit) == 40 and message.licence and message.repo.count("/") == 1
        assert message.provenance.startswith(("source:", "reader:"))


def test_an_edited_file_is_refused(tmp_path: pytest.TempPathFactory) -> None:
    message = load_corpus()[0]
    copy = tmp_path / message.path  # type: ignore[operator]
    copy.parent.mkdir(parents=True)
    copy.write_bytes(message.raw() + b"\n")
    with pytest.raises(CorpusError, match="sha256"):
        message.raw(tmp_path)  # type: ignore[arg-type]


def test_per_class_figures_do_not_fall_below_their_floors() -> None:
    pairs = [(message.label, _kind(message.raw())) for message in load_corpus()]
    counts = Counter(pairs)
    for kind, (min_precision, min_recall) in FLOORS.items():
        assert kind in KINDS
        right = counts[kind, kind]
        labelled = sum(n for (label, _), n in counts.items() if label == kind)
        predicted = sum(n for (_, got), n in counts.items() if got == kind)
        assert labelled, f"no {kind} in the corpus"
        assert right / predicted >= min_precision, (kind, "precision", right, predicted)
        assert right / labelled >= min_recall, (kind, "recall", right, labelled)


def _kind(raw: bytes) -> str:
    """The class the tracker gives (``analyse``: a spam flag seen through)."""
    result = analyse(raw).classification
    return result.kind if result is not None else "quarantined"
