"""Kata pack 05_gradient_check: its spec, torch oracle, diagnoses, stub, catalog and variants."""
