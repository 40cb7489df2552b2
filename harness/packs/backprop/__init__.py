"""Kata pack 02_backprop: its spec, torch oracle, diagnoses, stub, catalog and variants."""
