"""Kata 04's training data: a three-class spiral in the plane, the same for the spec and the picture."""

from __future__ import annotations

import numpy as np

from harness.grading import tolerances as tol

CLASSES = 3


def spiral(per_class: int = tol.SPIRAL_POINTS_PER_CLASS, seed: int = tol.SPIRAL_SEED) -> tuple[np.ndarray, np.ndarray]:
    """X (CLASSES * per_class, 2) and int labels: arm k winds one full turn outward from the centre,
    starting at angle 2 pi k / CLASSES, with a little noise in the angle. No straight line (no
    linear model) separates the arms; a small ReLU network does."""
    rng = np.random.default_rng(seed)
    radius = np.linspace(0.1, 1.0, per_class)
    points, labels = [], []
    for k in range(CLASSES):
        angle = 2 * np.pi * (k / CLASSES + radius) + rng.normal(0.0, 0.2, per_class)
        points.append(np.column_stack([radius * np.cos(angle), radius * np.sin(angle)]))
        labels.append(np.full(per_class, k, dtype=np.int64))
    return np.concatenate(points), np.concatenate(labels)
