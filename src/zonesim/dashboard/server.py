"""Start the Solara server for the dashboard (what ``zonesim dashboard`` runs).

The server is Solara's own Starlette app run by uvicorn, in production mode (no auto-reload),
with Solara's usage telemetry and version check off: the page needs nothing from the internet
(its JavaScript comes from the ``solara-assets`` package).
"""

from __future__ import annotations

import os
import socket
import sys
import threading
import time
import warnings
import webbrowser

from . import APP, CHECKPOINT_ENV, COMPARISON_ENV, CONFIG_ENV


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


def url_for(host: str, port: int) -> str:
    shown = "127.0.0.1" if host in ("0.0.0.0", "") else host
    if ":" in shown and not shown.startswith("["):  # an IPv6 address
        shown = f"[{shown}]"
    return f"http://{shown}:{port}/"


def serve(
    host: str = "127.0.0.1",
    port: int = 8765,
    *,
    config: str | None = None,
    checkpoint: str | None = None,
    comparison: str | None = None,
    open_browser: bool = False,
    log_level: str = "warning",
) -> int:
    """Serve the dashboard until interrupted; returns the exit code."""
    if port == 0:
        port = free_port(host if host not in ("", "0.0.0.0") else "127.0.0.1")
    if config:
        os.environ[CONFIG_ENV] = config
    else:
        os.environ.pop(CONFIG_ENV, None)
    if checkpoint:
        os.environ[CHECKPOINT_ENV] = checkpoint
    else:
        os.environ.pop(CHECKPOINT_ENV, None)
    if comparison:
        os.environ[COMPARISON_ENV] = comparison
    else:
        os.environ.pop(COMPARISON_ENV, None)
    # Solara reads these when its server modules are first imported.
    os.environ["SOLARA_APP"] = APP
    os.environ.setdefault("SOLARA_TELEMETRY_MIXPANEL_ENABLE", "False")
    os.environ["SERVER_NAME"] = host
    os.environ["SERVER_PORT"] = str(port)

    import solara.server.settings as settings
    import uvicorn

    # Plain http on 127.0.0.1 is what this server is for: Solara's advice on cookies for
    # https and iframes does not apply.
    warnings.filterwarnings("ignore", message="Cookies with samesite=none", category=UserWarning)

    settings.main.mode = "production"
    settings.telemetry.mixpanel_enable = False
    # A session holds two models (about 300 MB at 110,000 inhabitants). A closed tab frees them
    # at once; one that vanished without closing (a crash, a lost connection) is freed after
    # this long rather than Solara's default 24 hours.
    settings.kernel.cull_timeout = os.environ.get("SOLARA_KERNEL_CULL_TIMEOUT", "10m")
    from solara.server.starlette import app

    server = uvicorn.Server(
        uvicorn.Config(app, host=host, port=port, log_level=log_level, access_log=False)
    )
    url = url_for(host, port)
    print(f"zonesim dashboard: {url}  (Ctrl-C stops it)", file=sys.stderr, flush=True)
    if host not in ("127.0.0.1", "localhost", "::1"):
        print(
            f"zonesim dashboard: listening on {host}: anyone who can reach this machine can "
            "use the page (there is no login)",
            file=sys.stderr,
            flush=True,
        )
    if open_browser:

        def opener() -> None:
            for _ in range(600):
                if server.started:
                    webbrowser.open(url)
                    return
                time.sleep(0.1)

        threading.Thread(target=opener, daemon=True).start()
    server.run()
    return 0 if server.started else 1
