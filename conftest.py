# Makes `pytest katas/<id>` grade that kata with its hidden spec (see harness/grading/plugin.py).
pytest_plugins = ["harness.grading.plugin"]
