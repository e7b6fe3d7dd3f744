"""Servers and simulators run on this machine: by the test suite and by ``temoin demo``.

Nothing here is used in production: real deployments talk to real mail providers and to
Telegram. These are real servers all the same (Dovecot, aiosmtpd), started on loopback.
"""
