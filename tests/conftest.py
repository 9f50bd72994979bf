"""Shared fixtures of the test suite (append new ones below, with a line on what they are for)."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

# Hypothesis: no per-example deadline under CI (2 shared cores make timings noisy), and the same
# examples on every CI run (derandomize, no example database): a red CI is a real failure that
# reproduces, never a lucky draw. Choose a profile with HYPOTHESIS_PROFILE=dev|ci|thorough
# (thorough: 20x the examples, for a deep look).
settings.register_profile("dev", deadline=1000)
settings.register_profile(
    "ci",
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
    print_blob=True,
    derandomize=True,
    database=None,
)
settings.register_profile("thorough", deadline=None, max_examples=2000)
settings.load_profile(
    os.environ.get("HYPOTHESIS_PROFILE", "ci" if os.environ.get("CI") == "true" else "dev")
)

REPO_ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def repo_root() -> Path:
    """The repository's root folder (where pyproject.toml is)."""
    return REPO_ROOT


@pytest.fixture(scope="session")
def shared_data(repo_root: Path) -> Path:
    """The shared real-data folder ``../shared/data`` next to the repository; skips if absent."""
    path = repo_root.parent / "shared" / "data"
    if not path.is_dir():
        pytest.skip(f"shared data folder {path} is absent")
    return path


@pytest.fixture
def tmp_cwd(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh temporary folder made the current working directory for the test."""
    monkeypatch.chdir(tmp_path)
    return tmp_path


# --- the command line -------------------------------------------------------------------------

# Runs zonesim.cli.main with only the sub-commands whose module exists (lets the CLI tests run
# while some sub-commands are still being written; once all exist this is the full CLI).
_CLI_SHIM = (
    "import importlib.util, sys; import zonesim.cli as c; "
    "c.COMMANDS = [n for n in c.COMMANDS if importlib.util.find_spec('zonesim.cli.' + n)]; "
    "sys.exit(c.main(sys.argv[1:]))"
)


def _available_commands() -> list[str]:
    import zonesim.cli as cli

    return [n for n in cli.COMMANDS if importlib.util.find_spec(f"zonesim.cli.{n}")]


def all_cli_commands_exist() -> bool:
    import zonesim.cli as cli

    return _available_commands() == list(cli.COMMANDS)


@pytest.fixture
def zonesim_main(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture):
    """``zonesim_main(*argv) -> (exit code, stdout, stderr)`` through ``zonesim.cli.main``."""
    import zonesim.cli as cli

    monkeypatch.setattr(cli, "COMMANDS", _available_commands())

    def run(*argv: object) -> tuple[int, str, str]:
        capsys.readouterr()
        try:
            rc = cli.main([str(a) for a in argv])
        except SystemExit as exc:  # argparse: usage errors, --help, --version
            rc = 0 if exc.code is None else exc.code if isinstance(exc.code, int) else 1
        out, err = capsys.readouterr()
        return rc, out, err

    return run


@pytest.fixture
def zonesim_subprocess(tmp_path: Path):
    """``zonesim_subprocess(*argv) -> CompletedProcess``: ``zonesim`` in a fresh interpreter
    (``python -m zonesim``), no stdin, run in a temporary folder."""

    def run(*argv: object, timeout: float = 300) -> subprocess.CompletedProcess:
        prefix = ["-m", "zonesim"] if all_cli_commands_exist() else ["-c", _CLI_SHIM]
        return subprocess.run(
            [sys.executable, *prefix, *map(str, argv)],
            cwd=tmp_path,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=timeout,
        )

    return run
