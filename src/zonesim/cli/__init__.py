"""The ``zonesim`` command.

One module per sub-command (``zonesim/cli/<name>.py``), each with ``register(subparsers)`` that
adds its parser and sets ``func(args) -> int``. Input errors (:class:`ZonesimInputError`) become
one line on stderr and exit code 2, never a traceback.
"""

from __future__ import annotations

import argparse
import importlib
import sys

from ..errors import ResourceError, ZonesimInputError

# Sub-commands in the order ``zonesim --help`` lists them.
COMMANDS = ["run", "compare", "sweep", "analyse", "calibrate", "dashboard", "zones", "policies"]


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line and exit 2 (argparse's own code for it)."""

    def error(self, message: str):  # pragma: no cover - exercised through the CLI tests
        self.exit(2, f"{self.prog}: error: {message}\n")


def build_parser() -> argparse.ArgumentParser:
    from .. import __version__

    parser = _Parser(
        prog="zonesim", description="Agent-based simulation of regional primary-care systems."
    )
    parser.add_argument("--version", action="version", version=f"zonesim {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    sub.required = True
    for name in COMMANDS:
        module = importlib.import_module(f".{name}", __name__)
        module.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``zonesim`` console command."""
    try:
        parser = build_parser()  # imports the sub-commands: Ctrl-C may land here too
        args = parser.parse_args(argv)
        return int(args.func(args) or 0)
    except ZonesimInputError as exc:
        print(f"zonesim: error: {exc}", file=sys.stderr)
        return 2
    except ResourceError as exc:
        print(f"zonesim: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("zonesim: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # e.g. `zonesim zones | head`
        return 0


def add_config_options(p: argparse.ArgumentParser) -> None:
    """The options every simulating command shares."""
    p.add_argument(
        "--config",
        "-c",
        metavar="FILE",
        default=None,
        help="configuration TOML (default: the built-in default zone)",
    )
    p.add_argument(
        "--scenario",
        metavar="NAME|FILE",
        default=None,
        help="built-in scenario (baseline, care_paradox) or a scenario TOML",
    )
    p.add_argument(
        "-o",
        "--override",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override a configuration value, e.g. -o zone.population=20000",
    )
