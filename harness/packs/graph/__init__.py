"""Kata pack 03_graph: its spec, torch oracle, diagnoses, stub, catalog and variants."""
