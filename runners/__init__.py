"""The long-running jobs of ``temoin worker``: the dispatcher, the tracker, the pure effects of
a reply on its contact, and the one resolver of persona mail accounts and secrets."""
