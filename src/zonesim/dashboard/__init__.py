"""The zonesim dashboard: a Solara app comparing two policies side by side (``zonesim dashboard``).

``app.py`` holds the page (``Page``), ``state.py`` the per-session pair of models and its worker
(no Solara), ``controls.py`` the lever editors generated from the policy's field metadata and
``charts.py`` the matplotlib figures. Solara is imported only by ``app.py`` and ``controls.py``,
so ``import zonesim`` (and this package) never needs the ``dashboard`` extra.
"""

APP = "zonesim.dashboard.app:Page"
CONFIG_ENV = "ZONESIM_DASHBOARD_CONFIG"
CHECKPOINT_ENV = "ZONESIM_DASHBOARD_CHECKPOINT"
COMPARISON_ENV = "ZONESIM_DASHBOARD_COMPARISON"  # a saved comparison for the Economics panel
