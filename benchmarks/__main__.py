"""``python -m benchmarks``: the engine benchmark (benchmarks/run.py)."""

from .run import main

raise SystemExit(main())
