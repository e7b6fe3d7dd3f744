"""Audit grids: answer validation (French messages), durations, ``relevant`` conditions, scoring."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from scenarios.grid import (
    NBSP,
    BoolOp,
    Bounds,
    Compare,
    ExpressionError,
    Invalid,
    Measure,
    Not,
    Question,
    QuestionType,
    Truthy,
    check_condition,
    check_grid,
    criterion_met,
    evaluate,
    format_duration,
    grid_score,
    is_relevant,
    missing_required,
    next_question,
    parse_condition,
    parse_duration,
    possibly_relevant,
    prune_irrelevant,
    references,
    validate_answer,
)


def q(qid: str, kind: str, **extra: object) -> Question:
    return Question.model_validate({"id": qid, "type": kind, "label": f"Question {qid}", **extra})


PICKED_UP = q("picked_up", "yes_no", met_when=True, weight=2)
RINGS = q("rings", "integer", min=0, max=20, relevant="{picked_up} == yes", met_when={"max": 4})
COURTESY = q(
    "courtesy",
    "choice",
    relevant="{picked_up} == yes",
    choices=[
        {"value": "tres_aimable", "label": "Très aimable"},
        {"value": "aimable", "label": "Aimable"},
        {"value": "desagreable", "label": "Désagréable"},
    ],
    met_when=["tres_aimable", "aimable"],
)
WAIT = q("wait", "duration", min=0, max=1800, relevant="{picked_up} == yes", met_when={"max": 120})
TRANSFER = q("transfer_note", "text", relevant="{picked_up} == yes and {rings} >= 3")
COMMENTS = q("comments", "text", required=False, max_length=20)
GRID = (PICKED_UP, RINGS, COURTESY, WAIT, TRANSFER, COMMENTS)


# --------------------------------------------------------------------------- answers


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("oui", True), ("Oui.", True), ("O", True), ("yes", True), ("  NON ", False), ("n", False)],
)
def test_yes_no_answers(raw: str, expected: bool) -> None:
    assert validate_answer(PICKED_UP, raw) is expected


def test_yes_no_refuses_anything_else_in_french() -> None:
    result = validate_answer(PICKED_UP, "peut-être")
    assert result == Invalid(f"Veuillez répondre par «{NBSP}oui{NBSP}» ou «{NBSP}non{NBSP}».")


@pytest.mark.parametrize(("raw", "expected"), [("0", 0), ("4", 4), (" 20 ", 20), ("+3", 3)])
def test_integer_within_bounds(raw: str, expected: int) -> None:
    assert validate_answer(RINGS, raw) == expected


@pytest.mark.parametrize("raw", ["21", "-1", "quatre", "4,5", ""])
def test_integer_outside_bounds_or_not_a_number(raw: str) -> None:
    assert validate_answer(RINGS, raw) == Invalid("Veuillez entrer un nombre entier entre 0 et 20.")


def test_integer_messages_follow_the_bounds_given() -> None:
    assert validate_answer(q("n", "integer", min=1), "0") == Invalid(
        "Veuillez entrer un nombre entier supérieur ou égal à 1."
    )
    assert validate_answer(q("n", "integer", max=9), "10") == Invalid(
        "Veuillez entrer un nombre entier inférieur ou égal à 9."
    )
    assert validate_answer(q("n", "integer"), "x") == Invalid("Veuillez entrer un nombre entier.")
    assert validate_answer(q("n", "integer"), "1 200") == 1200


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("aimable", "aimable"),
        ("TRES AIMABLE", "tres_aimable"),
        ("Désagréable", "desagreable"),
        ("3", "desagreable"),
        ("1", "tres_aimable"),
    ],
)
def test_choice_by_value_label_or_number(raw: str, expected: str) -> None:
    assert validate_answer(COURTESY, raw) == expected


def test_choice_refusal_lists_the_choices() -> None:
    result = validate_answer(COURTESY, "bof")
    assert isinstance(result, Invalid)
    assert result.message.startswith("Veuillez choisir l’une des réponses proposées")
    assert "1. Très aimable" in result.message and "3. Désagréable" in result.message


def test_text_required_optional_and_length() -> None:
    assert validate_answer(TRANSFER, "  transféré   deux fois ") == "transféré deux fois"
    assert validate_answer(TRANSFER, "   ") == Invalid("Veuillez saisir une réponse.")
    assert validate_answer(COMMENTS, "") is None
    assert validate_answer(COMMENTS, "passer") is None
    assert validate_answer(COMMENTS, "-") is None
    too_long = validate_answer(COMMENTS, "x" * 21)
    assert isinstance(too_long, Invalid) and "20 caractères au maximum" in too_long.message


def test_required_question_cannot_be_skipped() -> None:
    assert isinstance(validate_answer(RINGS, "passer"), Invalid)


def test_photo_answer_is_the_reference() -> None:
    photo = q("photo", "photo")
    assert validate_answer(photo, "sha256:ab12") == "sha256:ab12"
    assert validate_answer(photo, "") == Invalid("Veuillez envoyer une photo.")
    assert validate_answer(q("photo", "photo", required=False), "") is None


# --------------------------------------------------------------------------- durations


@pytest.mark.parametrize(
    ("raw", "seconds"),
    [
        ("2 min 30", 150),
        ("2min30", 150),
        ("2 min 30 s", 150),
        ("2 MIN 30 SEC", 150),
        ("45 s", 45),
        ("45s", 45),
        ("45 secondes", 45),
        ("1:30", 90),
        ("01:02:03", 3723),
        ("1 h 05", 3900),
        ("1h05", 3900),
        ("1 h 05 min", 3900),
        ("1 heure et 10 minutes", 4200),
        ("2'30", 150),
        ("2'30\"", 150),
        ("2’30", 150),
        ("1,5 min", 90),
        ("3 minutes", 180),
        ("2 h", 7200),
        (f"2{NBSP}min{NBSP}30", 150),
    ],
)
def test_parse_duration_french_forms(raw: str, seconds: int) -> None:
    assert parse_duration(raw) == seconds


@pytest.mark.parametrize(
    "raw", ["", "90", "abc", "min", "30 s 2 min", "1:75", "2 min 30 40", "2 min min", "1 h 5 6"]
)
def test_parse_duration_refuses_what_it_cannot_read(raw: str) -> None:
    assert parse_duration(raw) is None


@settings(max_examples=200, deadline=None)
@given(st.integers(min_value=0, max_value=200_000))
def test_format_then_parse_duration_round_trips(seconds: int) -> None:
    assert parse_duration(format_duration(seconds)) == seconds


def test_format_duration_reads_as_french() -> None:
    assert format_duration(45) == f"45{NBSP}s"
    assert format_duration(150) == f"2{NBSP}min{NBSP}30{NBSP}s"
    assert format_duration(3900) == f"1{NBSP}h{NBSP}05{NBSP}min"


def test_duration_answers_and_messages() -> None:
    assert validate_answer(WAIT, "2 min 30") == 150
    unreadable = validate_answer(WAIT, "un moment")
    assert isinstance(unreadable, Invalid)
    assert unreadable.message.startswith("Veuillez entrer une durée, par exemple")
    too_long = validate_answer(WAIT, "45 min")
    assert isinstance(too_long, Invalid)
    assert f"entre 0{NBSP}s et 30{NBSP}min" in too_long.message


# --------------------------------------------------------------------------- conditions


def test_parse_condition_builds_the_tree() -> None:
    parsed = parse_condition("{picked_up} == yes and ({rings} >= 3 or not {transfer})")
    assert parsed == BoolOp(
        "and",
        (
            Compare("picked_up", "==", True),
            BoolOp("or", (Compare("rings", ">=", 3), Not(Truthy("transfer")))),
        ),
    )
    assert references(parsed) == ["picked_up", "rings", "transfer"]


def test_literal_on_the_left_is_flipped() -> None:
    assert parse_condition("3 <= {rings}") == Compare("rings", ">=", 3)
    assert parse_condition("'aimable' == {courtesy}") == Compare("courtesy", "==", "aimable")


@pytest.mark.parametrize(
    "source",
    [
        "",
        "{a} ==",
        "{a} == == 3",
        "3 == 4",
        "{a} == {b}",
        "{a} = 3",
        "({a} == yes",
        "{a} == yes)",
        "yes",
        "__import__('os').system('true')",
        "{a} == yes and",
        "{a} == yes; {b}",
    ],
)
def test_bad_expressions_are_refused(source: str) -> None:
    with pytest.raises(ExpressionError):
        parse_condition(source)


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet="{}()<>=!ab_ 0123456789'andortyesno", max_size=40))
def test_parser_only_ever_raises_expression_error(source: str) -> None:
    try:
        condition = parse_condition(source)
    except ExpressionError:
        return
    # whatever parses evaluates without error, on any answers
    for answers in ({}, {"a": True, "b": 3}, {"a": "x", "b": None}):
        assert evaluate(condition, answers) in (True, False, None)


def test_three_valued_logic_with_unanswered_questions() -> None:
    cond = parse_condition("{picked_up} == yes and {rings} >= 3")
    assert evaluate(cond, {}) is None
    assert evaluate(cond, {"picked_up": False}) is False  # false whatever rings is
    assert evaluate(cond, {"picked_up": True}) is None
    assert evaluate(cond, {"picked_up": True, "rings": 5}) is True
    either = parse_condition("{picked_up} == no or {rings} > 2")
    assert evaluate(either, {"rings": 3}) is True
    assert evaluate(either, {"rings": 1}) is None
    assert evaluate(parse_condition("not {picked_up}"), {}) is None
    assert evaluate(parse_condition("{courtesy} != aimable"), {"courtesy": "neutre"}) is True
    assert evaluate(parse_condition("{courtesy} != aimable"), {}) is None


def test_relevance_and_walking_the_grid() -> None:
    assert next_question(GRID, {}, None) == PICKED_UP
    # not picked up: everything that depends on it is skipped, straight to the comments
    assert next_question(GRID, {"picked_up": False}, "picked_up") == COMMENTS
    answers = {"picked_up": True, "rings": 2}
    assert next_question(GRID, answers, "picked_up") == RINGS
    assert next_question(GRID, answers, "courtesy") == WAIT
    assert next_question(GRID, answers, "wait") == COMMENTS  # rings < 3: no transfer note
    assert next_question(GRID, {"picked_up": True, "rings": 3}, "wait") == TRANSFER
    assert next_question(GRID, answers, "comments") is None
    assert is_relevant(TRANSFER, {"picked_up": True, "rings": 7})
    with pytest.raises(KeyError):
        next_question(GRID, answers, "no_such_question")


def test_prune_and_missing_after_an_edit() -> None:
    answers = {"picked_up": True, "rings": 5, "courtesy": "aimable", "transfer_note": "x"}
    assert [x.id for x in missing_required(GRID, answers)] == ["wait"]
    edited = {**answers, "picked_up": False}
    assert prune_irrelevant(GRID, edited) == {"picked_up": False}
    assert missing_required(GRID, {"picked_up": False}) == []


def test_possibly_relevant_counts_what_may_still_be_asked() -> None:
    """Before « picked up? » is answered everything may be asked; a « no » rules out what
    depends on it; a skipped answer (None) rules out what it alone would have opened."""
    assert [x.id for x in GRID if possibly_relevant(x, {})] == [x.id for x in GRID]
    assert [x.id for x in GRID if possibly_relevant(x, {"picked_up": False})] == [
        "picked_up",
        "comments",
    ]
    answered = {"picked_up": True, "rings": None}
    assert not possibly_relevant(TRANSFER, answered)  # rings skipped: it will not be asked
    assert possibly_relevant(TRANSFER, {"picked_up": True})  # rings not answered yet
    assert possibly_relevant(WAIT, {"picked_up": True})


def test_only_a_duration_is_measured() -> None:
    measured = q("call_duration", "duration", measured="call_length")
    assert measured.measured == Measure.CALL_LENGTH
    with pytest.raises(ValidationError, match="only a duration question is measured"):
        q("rings_measured", "integer", measured="call_length")
    with pytest.raises(ValidationError):
        q("wait", "duration", measured="stopwatch")


# --------------------------------------------------------------------------- scoring


def test_criterion_met_per_type() -> None:
    assert criterion_met(PICKED_UP, True) is True
    assert criterion_met(PICKED_UP, False) is False
    assert criterion_met(RINGS, 4) is True
    assert criterion_met(RINGS, 5) is False
    assert criterion_met(COURTESY, "aimable") is True
    assert criterion_met(COURTESY, "desagreable") is False
    assert criterion_met(WAIT, 120) is True
    assert criterion_met(WAIT, None) is None  # unanswered
    assert criterion_met(COMMENTS, "bien") is None  # not a criterion
    no_is_good = q("queue_cut", "yes_no", met_when="non")  # "non" read as False
    assert no_is_good.met_when is False
    assert criterion_met(no_is_good, False) is True


def test_grid_score_weights_relevant_answered_criteria() -> None:
    answers = {"picked_up": True, "rings": 6, "courtesy": "aimable", "wait": 30}
    score = grid_score(GRID, answers)
    # picked_up (2, met) + rings (1, not met) + courtesy (1, met) + wait (1, met)
    assert (score.met_weight, score.total_weight) == (4.0, 5.0)
    assert (score.criteria_met, score.criteria_total) == (3, 4)
    assert score.ratio == pytest.approx(0.8)
    # not picked up: the dependent criteria are out of the count, not failures
    missed = grid_score(GRID, {"picked_up": False, "rings": 9})
    assert (missed.met_weight, missed.total_weight) == (0.0, 2.0)
    assert grid_score(GRID, {}).ratio is None


def test_bounds_contains_is_closed() -> None:
    assert Bounds(min=1, max=4).contains(1) and Bounds(min=1, max=4).contains(4)
    assert not Bounds(max=4).contains(4.5)


# --------------------------------------------------------------------------- checks


def test_check_grid_accepts_a_sound_grid() -> None:
    assert check_grid(GRID) == []


@pytest.mark.parametrize(
    ("grid", "path", "reason"),
    [
        ((PICKED_UP, PICKED_UP), "[1].id", "duplicate question id"),
        ((q("c", "choice"),), "[0].choices", "at least 2 choices"),
        ((q("n", "integer", min=5, max=1),), "[0].min", "greater than max"),
        (
            (q("t", "text", relevant="{later} == yes"), q("later", "yes_no")),
            "[0].relevant",
            "not an earlier question",
        ),
        ((q("t", "text", relevant="{t} == 'x'"),), "[0].relevant", "not an earlier question"),
        ((PICKED_UP, q("t", "text", relevant="{picked_up} ==")), "[1].relevant", "bad expression"),
        ((PICKED_UP, q("t", "text", relevant="{picked_up} > 2")), "[1].relevant", "yes/no"),
        (
            (COURTESY, q("t", "text", relevant="{courtesy} == rude")),
            "[1].relevant",
            "not a choice",
        ),
        ((RINGS, q("t", "text", relevant="{rings} >= yes")), "[1].relevant", "a number"),
        (
            (q("c", "choice", choices=COURTESY.choices, met_when="rude"),),
            "[0].met_when",
            "unknown choice",
        ),
        ((q("n", "integer", met_when=True),), "[0].met_when", "{min: …, max: …}"),
        ((q("t", "text", weight=2),), "[0].weight", "without met_when"),
        ((q("t", "text", min=1),), "[0].min", "only belong to integer and duration"),
    ],
)
def test_check_grid_finds_problems(grid: tuple[Question, ...], path: str, reason: str) -> None:
    problems = check_grid(grid)
    assert any(p == path and reason in r for p, r in problems), problems


def test_check_condition_reports_type_errors_in_english() -> None:
    earlier = {"picked_up": PICKED_UP}
    assert check_condition("{picked_up} == yes", earlier) == []
    assert check_condition("{picked_up} == 3", earlier) == [
        "{picked_up} is yes/no: compare it with == yes or == no"
    ]


def test_question_types_are_closed() -> None:
    assert {kind.value for kind in QuestionType} == {
        "yes_no",
        "choice",
        "integer",
        "duration",
        "text",
        "photo",
    }
