"""``python -m temoin``: the same program as the ``temoin`` console script."""

from temoin.cli.app import main

if __name__ == "__main__":
    main()
