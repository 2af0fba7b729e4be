"""Benchmarks: each compares a pipeline against a baseline measured in the same run (ratios, not absolutes).

Run one with `python -m bench.<name>`, all with `make bench` (`python -m bench`). Results go to
bench/results/ (git-ignored). Never part of the test suite.
"""
