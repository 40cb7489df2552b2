# `pytest katas/<id>` grades that kata with its hidden spec through harness/grading/plugin.py, which
# pyproject.toml's addopts load (`-p harness.grading.plugin`) rather than this file: a conftest is read
# too late for the plugin's --impl option, and a submission's own conftest.py would then be imported.
