"""Where a password may travel in clear: to this machine only.

A persona's SMTP or IMAP account with security ``none`` sends its login and password
unencrypted (SMTP AUTH PLAIN/LOGIN, IMAP LOGIN): anyone on the path reads them. That is
refused unless the server is on the loopback interface (the demo's simulated provider, a
local relay or stunnel in front of the real one): ``cleartext_allowed(host)``.
"""

from __future__ import annotations

import ipaddress

__all__ = ["cleartext_allowed", "cleartext_refusal"]


def cleartext_allowed(host: str) -> bool:
    """True for ``localhost`` (and ``*.localhost``) and loopback addresses (127/8, ::1)."""
    name = host.strip().strip("[]").lower().rstrip(".")
    if name == "localhost" or name.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def cleartext_refusal(protocol: str, host: str, port: int) -> str:
    """The one line that says why a login was not sent."""
    return (
        f"{protocol} security none would send the password in clear to {host}:{port}: "
        f"use {'starttls or tls' if protocol == 'smtp' else 'tls'} (none is for a loopback "
        "server only)"
    )
