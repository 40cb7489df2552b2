"""Hints aimed at the first failing task (harness/practice/hints.py), on the real katas' kata.toml."""

from __future__ import annotations

import pytest

from harness.grading import registry
from harness.grading.results import KataResult, Status, TestResult
from harness.practice import hints

BACKPROP, GRAPH = registry.get("02_backprop"), registry.get("03_graph")


def result(kata: registry.Kata, *failing: tuple[str, str]) -> KataResult:
    tests = [TestResult(name, Status.FAIL, message, 0.0, 1.0) for name, message in failing]
    return KataResult(kata.id, "f.py", Status.FAIL, [TestResult("test_ok", Status.PASS, None, 1.0, 1.0), *tests])


@pytest.mark.parametrize(
    ("kata", "name", "message", "task"),
    [
        (BACKPROP, "test_backward_matches_torch[W1]", "backward()['W1'] disagrees with torch in 6 of 6 entries.", "backward"),
        (BACKPROP, "test_train_learns_xor", "init_params() is not implemented yet: write it in f.py (line 9 raises NotImplementedError).", "init_params"),
        (GRAPH, "test_trace_is_topological", "Value.__mul__() is not implemented yet: write it in f.py", "Value"),
        (GRAPH, "test_backward_seed_expression[2.0]", "Value.backward() is not implemented yet", "backward"),
        (GRAPH, "test_to_dot_is_a_digraph", "The text is not a digraph.", "to_dot"),  # from the test's name
        (GRAPH, "test_forward_op[+]", "The sum disagrees with torch.", None),  # nothing names a task: the general hints
    ],
)  # fmt: skip
def test_a_failing_check_belongs_to_the_task_its_message_or_name_names(kata, name, message, task):
    assert hints.task_of(kata, name, message) == task


def test_the_first_failing_task_is_the_earliest_in_the_stubs_order():
    graded = result(BACKPROP, ("test_train_one_step_is_gradient_descent", "train() disagrees"),
                    ("test_bce_loss_matches_torch", "bce_loss() disagrees"))  # fmt: skip
    assert hints.failing_task(BACKPROP, graded) == "bce_loss"


def test_practice_and_mock_count_apart_and_a_mock_keeps_the_answer_back():
    used = hints.counts(["backward", "backward", "1", ""])  # "1": an old record of a general hint
    assert used == {"backward": 2, hints.GENERAL: 2}
    practice = hints.next_hint(BACKPROP, "backward", used)
    assert (practice.number, practice.total, practice.text) == (3, 3, BACKPROP.task_hints["backward"][2])
    mock = hints.next_hint(BACKPROP, "backward", {"backward": 2}, spoilers=False)
    assert (mock.number, mock.total, mock.text) == (3, 2, None)  # the revealing hint is not given in an interview
    general = hints.next_hint(BACKPROP, None, used)
    assert general.text == BACKPROP.hints[2] and general.heading(BACKPROP) == "Hint 3 of 3 for 02_backprop"


@pytest.mark.parametrize("kata_id", ["01_chain_rule", "02_backprop", "03_graph"])
def test_each_task_gets_a_nudge_a_concept_and_a_shape_that_says_it_reveals_the_answer(kata_id):
    for kata in [registry.get(kata_id)]:
        assert kata.task_hints, kata.id
        for task, given in kata.task_hints.items():
            assert len(given) == 3, (kata.id, task)
            assert given[-1].startswith("This gives the answer away"), (kata.id, task)
            assert not any(h.startswith("This gives") for h in given[:-1]), (kata.id, task)


def test_a_mocks_hints_do_not_use_up_the_practice_ones(tmp_path):
    """After practice hint 1 and a hint in a mock, practice goes on with hint 2 (the issue's case)."""
    from harness.practice.store import Store

    store = Store(tmp_path / "progress.sqlite3")
    session = store.start_session("mock", {})
    store.record_event(BACKPROP.id, "hint", "backward")  # practice
    store.record_event(BACKPROP.id, "hint", "backward", session)  # in the mock
    practice = hints.counts([d for _, d in store.events(BACKPROP.id, "hint", practice=True)])
    store.close()
    assert hints.next_hint(BACKPROP, "backward", practice).number == 2
