"""Start a ``zonesim`` process as a terminal starts a foreground job, so a Ctrl-C test sends its
SIGINT to a process that a user's terminal could interrupt.

A job started in the background by a shell without job control (``cmd &`` in a script, as a CI
runner may start the test suite) inherits SIGINT *ignored*, and Python keeps an inherited
SIG_IGN: the child would then rightly ignore the test's Ctrl-C. An interactive shell starts its
foreground jobs with SIGINT at its default; :func:`sigint_as_in_a_terminal` restores that in the
child before it runs Python.
"""

from __future__ import annotations

import signal


def sigint_as_in_a_terminal() -> None:
    """``preexec_fn`` for :class:`subprocess.Popen`: SIGINT and SIGTERM at their default
    dispositions."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
