"""Proof-strategy recommender (see workbench.strategy.corpus, .portfolio, .model)."""
