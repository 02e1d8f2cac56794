"""The `inquiry-docs` console script: the commands on an app built by create_app()."""

from __future__ import annotations

from flask.cli import FlaskGroup

from .. import create_app


def main() -> None:
    cli = FlaskGroup(create_app=create_app, add_default_commands=False,
                     add_version_option=False, help="Inquiry Docs: evidence management.")
    cli.main(prog_name="inquiry-docs")


if __name__ == "__main__":
    main()
