"""Kata pack 04_softmax_ce: its spec, torch oracle, diagnoses, stub, catalog and variants."""
