"""Benchmarks: run each with `./dev python -m bench.<name>`; figures in bench/README.md."""
