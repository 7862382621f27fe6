"""Benchmarks that print each figure beside a peer's; never part of the test run."""
