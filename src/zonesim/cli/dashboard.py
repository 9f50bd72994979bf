"""``zonesim dashboard``: the Solara app comparing two policies side by side in a browser.

    zonesim dashboard                          serve http://127.0.0.1:8765 (this machine only)
    zonesim dashboard --port 9000 --open       another port, and open a browser on it
    zonesim dashboard --config my_zone.toml    start from a configuration (zone, scenario, ...)
    zonesim dashboard --host 0.0.0.0           serve other machines too (no authentication!)

The server binds 127.0.0.1 unless ``--host`` says otherwise. Each browser tab gets its own pair
of models. The configuration is checked before the server starts (a bad file exits with code 2
and a one-line message); the page itself reports bad input in its controls and keeps working.
Solara comes with the ``dashboard`` extra (``pip install 'zonesim[dashboard]'``).
"""

from __future__ import annotations

import argparse
import importlib.util
from pathlib import Path
from typing import Any

from ..errors import ZonesimInputError

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8765


def register(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "dashboard",
        help="compare two policies side by side in the browser (Solara app)",
        description=(
            "Start the dashboard: two policies (a baseline and an alternative, presets or lever "
            "by lever) on the same zone and seed under common random numbers, stepped month by "
            "month with live charts of the Quadruple Aim and equity metrics. Binds 127.0.0.1 "
            "unless --host is given. Stop it with Ctrl-C."
        ),
    )
    p.add_argument(
        "--host",
        default=DEFAULT_HOST,
        help=f"address to listen on (default: {DEFAULT_HOST}, this machine only; 0.0.0.0 "
        "serves every network the machine is on, without authentication)",
    )
    p.add_argument(
        "--port",
        type=_port,
        default=DEFAULT_PORT,
        help=f"port to listen on (default: {DEFAULT_PORT}; 0 picks a free one)",
    )
    p.add_argument(
        "--config",
        "-c",
        metavar="FILE",
        default=None,
        help="configuration TOML the page starts from (default: the built-in default zone)",
    )
    p.add_argument(
        "--checkpoint",
        metavar="FILE",
        default=None,
        help="start both policies from a saved model (zonesim run --save-checkpoint, "
        "ZoneModel.save): its zone, scenario and day",
    )
    p.add_argument(
        "--comparison",
        metavar="DIR",
        default=None,
        help="a comparison saved by zonesim compare (its results folder) for the Economics "
        "panel: cost-effectiveness over its replicates or PSA draws",
    )
    p.add_argument("--open", action="store_true", help="open the page in a web browser")
    p.set_defaults(func=run)


def _port(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a port number 0-65535, got {text!r}") from None
    if not 0 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"expected a port number 0-65535, got {value}")
    return value


def check_installed() -> None:
    """Raise a clear error when the ``dashboard`` extra is missing."""
    missing = [m for m in ("solara", "uvicorn") if importlib.util.find_spec(m) is None]
    if missing:
        raise ZonesimInputError(
            f"the dashboard needs {', '.join(missing)}; install the dashboard extra: "
            "pip install 'zonesim[dashboard]'",
            source="zonesim dashboard",
        )


def run(args: argparse.Namespace) -> int:
    from ..config import load_config

    config = None
    if args.config:
        config = str(Path(args.config).resolve())
        cfg = load_config(config)  # a bad file fails here, before any server starts
        from .. import geography

        geography.zone_from_config(cfg.zone, base_dir=Path(config).parent)
    checkpoint = None
    if args.checkpoint:
        from ..checkpoint import read_metadata

        checkpoint = str(Path(args.checkpoint).resolve())
        read_metadata(checkpoint)  # a bad file fails here, before any server starts
    comparison = None
    if args.comparison:
        from ..errors import ZonesimInputError

        comparison = str(Path(args.comparison).resolve())
        if not (Path(comparison) / "by_year.parquet").is_file():  # fails before any server
            raise ZonesimInputError(
                "expected the folder of a saved comparison (zonesim compare writes "
                "by_year.parquet there)",
                source="<argument>",
                field="--comparison",
                value=args.comparison,
            )
    check_installed()
    from ..dashboard.server import serve

    return serve(
        args.host,
        args.port,
        config=config,
        checkpoint=checkpoint,
        comparison=comparison,
        open_browser=args.open,
    )
