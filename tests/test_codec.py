"""The codec from the grader's side: what a learner's process sends is bounded in what it costs to decode."""

from __future__ import annotations

import msgpack
import numpy as np
import pytest
import sympy

from harness.jail import codec


def grader_codec() -> codec.Codec:
    return codec.Codec(lambda obj: None, lambda handle: handle, codec.sympy_node)


def test_a_kata_sized_answer_round_trips():
    c = grader_codec()
    value = {"W1": np.arange(6.0).reshape(2, 3), "losses": [0.5, 0.25], "shape": (2, 3)}
    back = c.loads(c.dumps(value))
    assert np.array_equal(back["W1"], value["W1"]) and back["losses"] == [0.5, 0.25] and back["shape"] == (2, 3)


@pytest.mark.parametrize(
    "message",
    [
        msgpack.packb([[]] * 2_000_000),  # one list of two million: refused before it is built
        msgpack.packb([[[]] * 500_000 for _ in range(3)]),  # 1.5 million, none too long alone
        msgpack.packb([{} for _ in range(1_000_001)]),
    ],
    ids=["one long list", "many lists", "dicts"],
)
def test_a_message_of_millions_of_small_objects_is_refused(message):
    with pytest.raises(codec.CodecError):
        grader_codec().loads(message)


def test_a_float_no_answer_needs_is_refused_and_ordinary_ones_kept():
    c = grader_codec()
    huge = ["Float", [0, 1, 2**31, 1], 53]
    with pytest.raises(codec.CodecError, match="10,000 bits or beyond 2"):
        codec._sympy_build(huge, codec.sympy_node)
    for value in (sympy.Float(1.5), sympy.Float("1e300"), sympy.Float("-1e-300")):
        assert codec._sympy_build(codec._sympy_tree(value), codec.sympy_node) == value
    assert c.loads(c.dumps(sympy.Float(2.5))) == sympy.Float(2.5)
