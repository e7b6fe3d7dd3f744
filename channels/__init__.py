"""The wire: email out (SMTP), email in (IMAP), letters (PDF). Protocol I/O lives here only."""
