"""Pictures: kata 03's graph drawn beside torch's (draw, dot) and the history chart (plots)."""
