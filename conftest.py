# Makes `pytest katas/<id>` grade that kata with its hidden spec (see harness/plugin.py).
pytest_plugins = ["harness.plugin"]
