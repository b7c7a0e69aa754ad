"""The ``cameo`` console script: Flask's CLI with the app's own command groups."""
from __future__ import annotations

from flask.cli import FlaskGroup


def main() -> None:
    from . import create_app

    FlaskGroup(create_app=lambda: create_app(), help="Cameo Exchange command line.")(prog_name="cameo")


if __name__ == "__main__":
    main()
