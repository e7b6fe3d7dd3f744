"""The ``temoin`` command line: the app is assembled in ``temoin.cli.app``; one module per
command group. Modules import their heavy libraries inside the commands, so that ``--help``
answers at once."""
