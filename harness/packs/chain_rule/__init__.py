"""Kata pack 01_chain_rule: its spec, torch oracle, diagnoses, stub, catalog and variants."""
