"""Kata packs: one folder per kata, named after the learner's module (see harness/grading/registry.py).

Adding a kata is adding a pack (`kata new ID MODULE` scaffolds one), its prompt in katas/<id>/README.md
and its reference in solutions/<id>/<module>.py.
"""
