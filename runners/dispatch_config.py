"""The dispatcher's settings, built once by ``temoin worker`` from ``[dispatch]``.

The schedules they set (which failure waits how long, and which is counted against the
service) are explained in runners/dispatcher.py and runners/breaker.py.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class DispatchConfig:
    batch_size: int = 50
    lease_seconds: int = 300
    lease_margin_seconds: int = 30  # stop sending from a claim this close to its expiry
    per_persona_per_hour: int = 0  # 0 = no limit
    per_domain_per_hour: int = 0
    retry_base_seconds: int = 300  # a temporary refusal about the recipient
    retry_cap_seconds: int = 6 * 3600
    max_attempts: int = 8  # such refusals before a contact is given up as undeliverable
    smtp_timeout: float = 30.0
    imap_timeout: float = 30.0
    self_copy: bool = True
    sent_copy: bool = True
    sent_copy_days: int = 7  # the sweep looks after contacts sent this recently
    verify_retry_seconds: int = 120
    # Our provider unreachable or busy: probe after 5 s, doubling up to 5 minutes.
    outage_base_seconds: float = 5.0
    outage_cap_seconds: float = 300.0
    # Our account or provider refusing us: probe after 1 minute, doubling up to 30.
    refused_base_seconds: float = 60.0
    refused_cap_seconds: float = 1800.0
    breaker_threshold: int = 3  # refusals of single messages in a row that open a breaker
    held_retry_seconds: int = 1200  # a message refused on its own by our provider; our setup
    # Outcomes "accepted by the server" are written this many at a time, in one transaction
    # (a crash before the write leaves them to the mailbox check, like any crash after 250).
    record_every: int = 25
