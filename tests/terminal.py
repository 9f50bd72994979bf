"""Signal tests' helpers: start a ``zonesim`` process as a terminal starts a foreground job, so a
Ctrl-C test sends its SIGINT to a process that a user's terminal could interrupt; find a
process's children and tell whether a process has ended (Linux ``/proc``).

A job started in the background by a shell without job control (``cmd &`` in a script, as a CI
runner may start the test suite) inherits SIGINT *ignored*, and Python keeps an inherited
SIG_IGN: the child would then rightly ignore the test's Ctrl-C. An interactive shell starts its
foreground jobs with SIGINT at its default; :func:`sigint_as_in_a_terminal` restores that in the
child before it runs Python.
"""

from __future__ import annotations

import os
import signal


def sigint_as_in_a_terminal() -> None:
    """``preexec_fn`` for :class:`subprocess.Popen`: SIGINT and SIGTERM at their default
    dispositions."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)


def children(pid: int) -> list[int]:
    """The child processes of ``pid``, and theirs."""
    kids: list[int] = []
    for task in os.listdir(f"/proc/{pid}/task"):
        with open(f"/proc/{pid}/task/{task}/children") as fh:
            kids += [int(k) for k in fh.read().split()]
    return kids + [d for k in kids if os.path.exists(f"/proc/{k}") for d in children(k)]


def ended(pid: int) -> bool:
    """Whether process ``pid`` has ended (gone, or a zombie)."""
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().rsplit(") ", 1)[1].startswith("Z")
    except OSError:
        return True
