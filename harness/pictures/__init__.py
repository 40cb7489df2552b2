"""Pictures: kata 03's graph drawn beside torch's (draw, dot) and the history chart (plots).

A kata with a picture names its drawing module in kata.toml (`picture = "..."`); `kata draw ID` calls
that module's draw(impl_root, out_dir, *, renderer, seconds) and shows a DrawError's message as is.
"""


class DrawError(Exception):
    """The picture cannot be drawn; the message says why, in the learner's terms."""
