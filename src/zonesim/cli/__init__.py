"""The ``zonesim`` command.

One module per sub-command (``zonesim/cli/<name>.py``), each with ``register(subparsers)`` that
adds its parser and sets ``func(args) -> int``. Input errors (:class:`ZonesimInputError`) become
one line on stderr and exit code 2, never a traceback.

Ctrl-C (SIGINT) and SIGTERM (``kill``, a SLURM time limit or ``scancel``) stop a command the same
way: the cleanup of an interrupted run (no half-written output folder, compare's workers stopped)
runs, then one line and exit code 130 (interrupted) or 143 (terminated). A signal the process
inherited as ignored stays ignored, as in any Python program.
"""

from __future__ import annotations

import argparse
import importlib
import signal
import sys
import threading

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


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised like Ctrl-C's KeyboardInterrupt so that the same cleanup runs."""


def _raise_terminated(signum, frame):
    raise Terminated


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``zonesim`` console command."""
    on_term = None
    if threading.current_thread() is threading.main_thread():
        if signal.getsignal(signal.SIGTERM) == signal.SIG_DFL:  # an inherited SIG_IGN stays
            on_term = signal.signal(signal.SIGTERM, _raise_terminated)
    try:
        return _main(argv)
    finally:
        if on_term is not None:  # main() may be called in-process (tests, notebooks)
            signal.signal(signal.SIGTERM, on_term)


def _main(argv: list[str] | None) -> int:
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
    except Terminated:
        print("zonesim: terminated", file=sys.stderr)
        return 143
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
        help="built-in scenario (baseline, ageing, care_paradox) or a scenario TOML",
    )
    p.add_argument(
        "-o",
        "--override",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override a configuration value, e.g. -o zone.population=20000",
    )
