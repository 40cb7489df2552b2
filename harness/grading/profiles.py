"""Hypothesis settings profiles: deterministic `grading` (the default) and exploratory `practice`."""

from hypothesis import HealthCheck, Phase, settings

GRADING = "grading"
PRACTICE = "practice"

_common = dict(
    deadline=None,  # shared, noisy machines: time is measured by benchmarks, never by the spec
    database=None,  # never write an example database into the learner's repo
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.differing_executors],
    report_multiple_bugs=False,
    # No explain phase: "lines run only by failing cases" would point into the harness, not at the mistake.
    phases=[Phase.explicit, Phase.reuse, Phase.generate, Phase.target, Phase.shrink],
)

# Same code, same examples, same verdict on every run: for grades, mock interviews and batches.
# 20 examples: real mistakes show on the first few (hypothesis starts from the simplest inputs),
# and a re-grade on save must stay well under a second (see benchmarks/).
settings.register_profile(GRADING, derandomize=True, max_examples=20, print_blob=False, **_common)
# New examples on each run; a failure prints the seed to replay it with --hypothesis-seed.
settings.register_profile(PRACTICE, derandomize=False, max_examples=100, print_blob=True, **_common)


def use_default() -> None:
    """Load the grading profile; `--hypothesis-profile practice` overrides it later in pytest_configure."""
    settings.load_profile(GRADING)
