"""Tooling run by developers and operators, not by the servers: benchmarks, NLU evaluation, replay."""
