"""The learner's commands: the board, watch, hints, resets, history, mock interviews, the progress store, doctor."""
