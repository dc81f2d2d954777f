"""Reproducible experiments: TOML files naming datasets, specs, backends and seeds."""
