"""Kata pack 06_vanishing_gradients: its spec, torch oracle, diagnoses, stub, catalog and variants."""
