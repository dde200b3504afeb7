"""One-off measurements behind sections of docs/benchmarks.md, kept so that their
numbers can be rerun (``python -m benchmarks.probes.<name> --help``)."""
