# --- hostile: hypothesis's executor hooks (appended to a submission by tests/test_hostile.py) ------
# hypothesis takes a test's first argument for its `self` and runs each example through that object's
# execute_example(): here, one that runs none. The learner's module is that argument.


def execute_example(function):
    return None


def setup_example():
    pass


def teardown_example(example):
    pass


hypothesis_internal_is_this_a_mock_check = True
