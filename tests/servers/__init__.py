"""Real servers started by the test suite on loopback (Dovecot, aiosmtpd, a Bot API)."""
