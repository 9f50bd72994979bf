"""zonesim's speed and memory benchmarks: ``python -m benchmarks`` (see benchmarks/README.md)."""
