"""Kata harness: registry, hidden specs, torch oracle, pytest plugin and the `kata` command."""
