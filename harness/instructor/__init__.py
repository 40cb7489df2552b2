"""The instructor's and author's commands: batch grading, the Gradescope bundle, result formats, verify, new."""
