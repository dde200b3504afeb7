"""Benchmark suite for skhpmkd: real tabular datasets, baselines, runner."""
