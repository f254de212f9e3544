"""Replies as programs and test cases: what counts as an assert, what is trivial, what the sandbox runs."""

from __future__ import annotations

from helpers.codegen_alignment.docstring_examples import docstring_asserts
from helpers.codegen_alignment.programs import (
    cases_job,
    function_program,
    is_trivial,
    split_asserts,
)

PROMPT = 'def add(a, b):\n    """Add two numbers.\n    >>> add(1, 2)\n    3\n    """\n'


def test_a_whole_function_reply_replaces_the_stub_and_a_body_continues_the_prompt():
    whole = function_program("Sure:\n```python\ndef add(a, b):\n    return a + b\n```", PROMPT, "add")
    assert whole.startswith(PROMPT) and whole.rstrip().endswith("return a + b")
    body = function_program("    return a + b\n", PROMPT, "add")
    assert body == PROMPT + "    return a + b\n"
    assert function_program("```python\n```", PROMPT, "add") is None


def test_an_unfenced_function_amid_prose_is_read_without_the_prose():
    reply = ("<think>easy</think>Here is the function:\ndef add(a, b):\n    return a + b\n\n"
             "This function returns the sum of `a` and `b`.")
    assert function_program(reply, PROMPT, "add") == f"{PROMPT}\n\ndef add(a, b):\n    return a + b\n"


def test_asserts_are_split_as_codet_does_and_a_completion_starts_inside_the_first():
    reply = "add(1, 2) == 3\nassert add(0, 0) == 0\n# more\nassert add(2, 2) == 4"
    assert split_asserts(reply, continues_assert=True) == ["assert add(1, 2) == 3", "assert add(0, 0) == 0",
                                                          "assert add(2, 2) == 4"]
    assert split_asserts("```python\nassert add(1, 1) == 2\n```", continues_assert=False) == ["assert add(1, 1) == 2"]
    assert split_asserts("I cannot write tests for this.", continues_assert=False) == []


def test_trivial_asserts_hold_whatever_the_function_does():
    assert is_trivial("assert True", "add", 1000)
    assert is_trivial("assert 1 == 1", "add", 1000)
    assert is_trivial("assert add(1, 2) == add(1, 2)", "add", 1000)
    assert not is_trivial("assert add(1, 2) == 3", "add", 1000)
    assert not is_trivial("assert add(1, 2) is not None", "add", 1000)


def test_docstring_examples_become_the_known_good_test_set():
    assert docstring_asserts(PROMPT, "add") == ["assert add(1, 2) == 3"]
    arrow = 'def f(x):\n    """\n    f(3) ➞ 9\n    f(0) == 0\n    """\n'
    assert docstring_asserts(arrow, "f") == ["assert f(3) == 9", "assert f(0) == 0"]


def test_every_case_runs_in_its_own_try_block_and_yields_one_verdict(sandbox):
    program = PROMPT + "    return a + b\n"
    job = cases_job(program, ["assert add(1, 2) == 3", "assert add(1, 2) == 4", "assert add(None, 1) == 1"])
    (outcome,) = sandbox.run([job])
    assert outcome.status == "ok" and outcome.value == [True, False, False]
