"""The grading core: registry, the pytest plugin and runner, the sandbox of warm graders, checks, verdicts and diagnoses."""
