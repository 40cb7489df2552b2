"""Practice in Jupyter: notebooks made from the katas (build), notebook cells and IPython sessions
turned into the one file the grader takes (cells), and `%kata` in a session (session)."""
