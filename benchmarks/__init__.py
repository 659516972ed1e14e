"""Benchmarks for issue #8: `python -m benchmarks.run --scale tiny|small|county|province` (see README.md)."""
