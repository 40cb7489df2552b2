"""Kata harness: registry, hidden specs, torch oracle, pytest plugin and the `kata` command.

In Jupyter or IPython: `%load_ext harness`, then `%kata check 02_backprop` (or `harness.check("02_backprop")`)
grades the functions the session defined (harness/notebooks/session.py).
"""


def check(kata_id: str, *focus: str):
    """Grade what this Jupyter or IPython session defined against the kata's spec (see harness/notebooks)."""
    from harness.notebooks import session

    return session.check(kata_id, *focus)


def load_ipython_extension(ipython) -> None:
    """`%load_ext harness`: registers the `%kata` line magic."""
    from harness.notebooks import session

    ipython.register_magic_function(session.kata_magic, magic_kind="line", magic_name="kata")
