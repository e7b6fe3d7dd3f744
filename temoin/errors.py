"""The errors a user can fix, shared by the use cases and the command line."""


class UserError(Exception):
    """A problem the user can fix (bad file, unknown name); printed without traceback."""
