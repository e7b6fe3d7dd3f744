"""The service's mail platform and ticket system: how their automatic mail is dressed.

    platform (Voice.platform)  an automatic reply carries                     Return-Path
    exchange    Auto-Submitted: auto-generated, X-Auto-Response-Suppress: All,     <>
                X-MS-Exchange-Inbox-Rules-Loop, Thread-Topic/Index, empty MAPI headers;
                « Réponse automatique : <subject> »
    zimbra      Auto-Submitted: auto-replied (zimbra; vacation); the agent's own   <>
                subject
    bluemind    Auto-Submitted: auto-replied (vacation), X-Sieve (its Cyrus);      <>
                the agent's own subject, always in the thread
    sieve       Auto-Submitted: auto-replied (vacation), Precedence: bulk,         <>
                X-Sieve: Pigeonhole; « Auto: <subject> », always in the thread
                (RFC 5230)
    gmail       Auto-Submitted: auto-replied; always in the thread                  the user

    ticket system (Voice.ticket_system): see tickets.py
    otrs        Auto-Submitted: auto-replied, X-Auto-Response-Suppress: All, X-Loop
    glpi        Auto-Submitted: auto-generated, X-Auto-Response-Suppress: OOF, DR, NDR, RN, NRN
    zammad      Auto-Submitted: auto-generated, X-Loop: yes, Precedence: bulk,
                X-Auto-Response-Suppress: All

The header sets are those these products are commonly seen to send (public samples and
documentation, not checked byte for byte against each product); the wording that goes with
them is the simulator's own French (french_auto.py).
"""

from __future__ import annotations

from dataclasses import dataclass

PLATFORMS = ("exchange", "zimbra", "bluemind", "sieve", "gmail")
TICKET_SYSTEMS = ("otrs", "glpi", "zammad")


@dataclass(frozen=True)
class AutoReply:
    """How one platform sends an automatic reply."""

    platform: str
    headers: tuple[tuple[str, str], ...]
    null_return_path: bool  # RFC 3834's empty envelope sender
    always_threaded: bool  # In-Reply-To/References whatever the profile drew
    style: str  # the Writer's envelope style (Message-ID form, server headers)


def auto_reply(platform: str, mailbox: str) -> AutoReply:
    """The automatic reply of ``platform`` for the mailbox ``mailbox``."""
    headers: tuple[tuple[str, str], ...]
    if platform == "exchange":
        headers = (
            ("Auto-Submitted", "auto-generated"),
            ("X-Auto-Response-Suppress", "All"),
            ("X-MS-Exchange-Inbox-Rules-Loop", mailbox),
        )
        return AutoReply(platform, headers, True, False, "exchange")
    if platform == "zimbra":
        headers = (("Auto-Submitted", "auto-replied (zimbra; vacation)"),)
        return AutoReply(platform, headers, True, False, "zimbra")
    if platform == "bluemind":
        headers = (
            ("Auto-Submitted", "auto-replied (vacation)"),
            ("X-Sieve", "CMU Sieve 3.0"),
        )
        return AutoReply(platform, headers, True, True, "bluemind")
    if platform == "sieve":
        headers = (
            ("Auto-Submitted", "auto-replied (vacation)"),
            ("Precedence", "bulk"),
            ("X-Sieve", "Pigeonhole Sieve 0.5.19 (4eae2f79)"),
        )
        return AutoReply(platform, headers, True, True, "sieve")
    if platform == "gmail":
        return AutoReply(platform, (("Auto-Submitted", "auto-replied"),), False, True, "gmail")
    raise ValueError(f"unknown mail platform {platform!r}")


def ticket_headers(
    system: str, sender: str, *, acknowledgement: bool
) -> tuple[tuple[str, str], ...]:
    """What a ticket system adds: to its acknowledgements, and (``acknowledgement`` False) to
    an agent's answer it sends (a loop guard only: a person wrote it)."""
    if system == "otrs":
        if not acknowledgement:
            return (("X-Loop", sender),)
        return (
            ("Auto-Submitted", "auto-replied"),
            ("X-Auto-Response-Suppress", "All"),
            ("X-Loop", sender),
        )
    if system == "glpi":
        if not acknowledgement:
            return ()
        return (
            ("Auto-Submitted", "auto-generated"),
            ("X-Auto-Response-Suppress", "OOF, DR, NDR, RN, NRN"),
        )
    if system == "zammad":
        if not acknowledgement:
            return (("X-Loop", "yes"),)
        return (
            ("Auto-Submitted", "auto-generated"),
            ("X-Loop", "yes"),
            ("Precedence", "bulk"),
            ("X-Auto-Response-Suppress", "All"),
        )
    raise ValueError(f"unknown ticket system {system!r}")
