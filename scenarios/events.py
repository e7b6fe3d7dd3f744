"""Names of the timeline events a contact accumulates (``ContactEvent.kind``).

The bot writes the field events when an auditor presses a button; the server's update time
is the event time (never the auditor's memory). Statistics derive every field timing from
these events, so the names are a contract between bot/ and reports/:

Phone (each attempt carries ``detail["attempt"]``, 1-based):
    CALL_STARTED  -> CALL_PICKED_UP | CALL_VOICEMAIL | CALL_NO_ANSWER | CALL_BUSY
    during a picked-up call: CALL_TRANSFERRED, CALL_ON_HOLD -> CALL_RESUMED (pairs)
    CALL_HUNG_UP ends an attempt.
    seconds to pick-up = picked_up - started (same attempt); hold = sum(resumed - on_hold);
    transfers = count of transferred; the number of rings is the grid answer ``rings``.
Visit:
    VISIT_ARRIVED (detail may hold ``distance_m`` from the service's address and ``location_flag``)
    -> VISIT_SERVED -> VISIT_LEFT; waiting = served - arrived; service = left - served.
Letter:
    LETTER_PRINTED (by ``temoin letters print``), LETTER_POSTED (the auditor's posting date:
    the start of every letter delay), LETTER_REPLY_RECEIVED (reception date; photo evidence).
Email (written by the dispatcher and the tracker):
    SENT, FOLLOWUP_SENT, SEND_FAILED, SEND_UNVERIFIED, DEFERRED, UNDELIVERABLE, REPLY_MATCHED.
Review:
    REVIEW_TO_FIX (a coordinator asks for a correction), REVIEW_FIXED, REVIEW_OVERRIDE.
"""

from __future__ import annotations

CALL_STARTED = "call.started"
CALL_PICKED_UP = "call.picked_up"
CALL_VOICEMAIL = "call.voicemail"
CALL_NO_ANSWER = "call.no_answer"
CALL_BUSY = "call.busy"
CALL_TRANSFERRED = "call.transferred"
CALL_ON_HOLD = "call.on_hold"
CALL_RESUMED = "call.resumed"
CALL_HUNG_UP = "call.hung_up"

VISIT_ARRIVED = "visit.arrived"
VISIT_SERVED = "visit.served"
VISIT_LEFT = "visit.left"

LETTER_PRINTED = "letter.printed"
LETTER_POSTED = "letter.posted"
LETTER_REPLY_RECEIVED = "letter.reply_received"

SENT = "sent"
FOLLOWUP_SENT = "followup_sent"
SEND_FAILED = "send_failed"
SEND_UNVERIFIED = "send_unverified"
DEFERRED = "deferred"
UNDELIVERABLE = "undeliverable"
REPLY_MATCHED = "reply_matched"

REVIEW_TO_FIX = "review.to_fix"
REVIEW_FIXED = "review.fixed"
REVIEW_OVERRIDE = "review.override"

CALL_OUTCOMES = (CALL_PICKED_UP, CALL_VOICEMAIL, CALL_NO_ANSWER, CALL_BUSY)

# What auditors record in the field: every timing of a call, a visit or a letter's life
# after printing comes from these.
FIELD_EVENTS: tuple[str, ...] = (
    CALL_STARTED,
    CALL_PICKED_UP,
    CALL_VOICEMAIL,
    CALL_NO_ANSWER,
    CALL_BUSY,
    CALL_TRANSFERRED,
    CALL_ON_HOLD,
    CALL_RESUMED,
    CALL_HUNG_UP,
    VISIT_ARRIVED,
    VISIT_SERVED,
    VISIT_LEFT,
    LETTER_POSTED,
    LETTER_REPLY_RECEIVED,
)
