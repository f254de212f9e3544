"""Program mode: whole programs on a stdin, judged like a contest, contained like verifiers."""

from __future__ import annotations

import pytest

from engine.sandbox import Job, Outcome, ProgramJob, Sandbox
from engine.sandbox.judge import mismatch, normalised_output
from tests.sandbox.conftest import LIMITS

SUM = "import sys\ndata = sys.stdin.read().split()\nprint(sum(map(int, data[1:])))\n"
# (name, program, stdin, expected output or None, expected status)
PROGRAMS = [
    ("reads_with_sys_stdin", SUM, "3\n1 2 3\n", "6", "ok"),
    ("main_guard_and_input", "def main():\n    print(int(input()) * 2)\n\nif __name__ == '__main__':\n    main()\n",
     "4\n", "8\n", "ok"),
    ("iterates_stdin", "import sys\nprint(sum(int(line) for line in sys.stdin))\n", "1\n2\n", "3", "ok"),
    ("binary_stdin_and_stdout_write", "import sys\nrow = sys.stdin.buffer.readline().split()\n"
     "sys.stdout.write(str(len(row)) + '\\n')\n", "a b c\n", "3", "ok"),
    ("from_sys_import", "from sys import stdin\nprint(stdin.readline().strip()[::-1])\n", "abc\n", "cba", "ok"),
    ("exit_zero_ends_normally", "import sys\nprint(1)\nsys.exit(0)\nprint(2)\n", "", "1", "ok"),
    ("deep_recursion_when_asked", "import sys\nsys.setrecursionlimit(10**6)\n"
     "def depth(n):\n    return 0 if n == 0 else 1 + depth(n - 1)\nprint(depth(5000))\n", "", "5000", "ok"),
    ("wrong_output", "print(int(input()) + 1)\n", "4\n", "4", "wrong_answer"),
    ("reads_past_its_input", "while True:\n    line = input()\n", "1\n2\n", None, "error"),
    ("exit_status_nonzero", "exit(3)\n", "", None, "error"),
    ("prints_without_end", "while True:\n    print('x' * 1000)\n", "", None, "error"),
    ("loops", "while True:\n    pass\n", "", None, "timeout"),
    ("allocates_too_much", "block = bytearray(512 * 2**20)\n", "", None, "memory"),
    ("imports_os", "import os\nprint(os.getcwd())\n", "", None, "forbidden"),
    ("forks", "import subprocess\nsubprocess.run(['ls'])\n", "", None, "forbidden"),
    ("writes_a_file", "with open('out.txt', 'w') as f:\n    f.write('hi')\n", "", None, "forbidden"),
    ("catches_the_violation", "try:\n    import os\nexcept Exception:\n    pass\nprint('fine')\n", "", "fine",
     "forbidden"),
    ("rebinds_stdout", "import sys\nsys.stdout = None\n", "", None, "forbidden"),
    ("not_python", "print(\n", "", None, "syntax"),
]


@pytest.fixture(scope="module")
def program_outcomes(sandbox) -> dict[str, Outcome]:
    jobs = [ProgramJob(source, stdin, expected=expected, time_limit_s=1.0, memory_mb=128)
            for _, source, stdin, expected, _ in PROGRAMS]
    return {name: o for (name, *_), o in zip(PROGRAMS, sandbox.run(jobs), strict=True)}


@pytest.mark.parametrize("name, status", [(p[0], p[4]) for p in PROGRAMS])
def test_each_program_gets_its_verdict(program_outcomes, name, status):
    outcome = program_outcomes[name]
    assert outcome.status == status, outcome.message


def test_an_ok_or_wrong_program_keeps_its_stdout_and_says_where_it_differs(program_outcomes):
    assert program_outcomes["reads_with_sys_stdin"].value == "6\n"
    wrong = program_outcomes["wrong_output"]
    assert wrong.value == "5\n" and wrong.message == "token 1: expected '4', found '5'"
    assert program_outcomes["loops"].value is None


def test_outputs_compare_as_tokens_with_an_optional_float_tolerance():
    assert mismatch("1 2\n3\n", "1  2 3") is None
    assert normalised_output(" 1 2\n3 \n") == "1 2 3"
    assert mismatch("1 2", "1 2 3") == "expected 2 tokens, found 3"
    assert mismatch("0.3333333", "0.33333334") is not None
    assert mismatch("0.3333333", "0.33333334", float_tolerance=1e-6) is None
    assert mismatch("1000000", "1000000.5", float_tolerance=1e-6) is None  # relative to the expected value
    assert mismatch("0.5", "0.51", float_tolerance=1e-6) == "token 1: expected '0.5', found '0.51'"
    assert mismatch("yes", "no", float_tolerance=1.0) is not None


def test_a_program_memory_limit_is_its_own_and_capped_by_the_sandbox():
    program = "block = bytearray(300 * 2**20)\nprint(len(block))\n"
    with Sandbox(workers=1, timeout_s=LIMITS["timeout_s"], memory_mb=1024, cache="off") as sb:
        small, large, small_again = sb.run([ProgramJob(program, "", memory_mb=size) for size in (64, 512, 64)])
    assert (small.status, large.status, small_again.status) == ("memory", "ok", "memory")
    with Sandbox(workers=1, timeout_s=LIMITS["timeout_s"], memory_mb=256, cache="off") as sb:
        (capped,) = sb.run([ProgramJob(program, "", memory_mb=4096)])
    assert capped.status == "memory"


def test_what_a_program_changes_in_the_interpreter_does_not_reach_the_next_job():
    raise_limit = "import sys\nsys.setrecursionlimit(50000)\nprint(sys.getrecursionlimit())\n"
    read_limit = "import sys\nprint(sys.getrecursionlimit())\n"
    with Sandbox(workers=1, cache="off", **LIMITS) as sb:
        raised, after = sb.run([ProgramJob(raise_limit, ""), ProgramJob(read_limit, "")])
    assert raised.value == "50000\n" and after.value == "1000\n"


def test_programs_and_functions_share_a_batch_and_outputs_are_judged_after_the_cache(tmp_path):
    function = Job("def evaluate(text):\n    return len(text) > 2\n", "evaluate", ("abc",))
    with Sandbox(workers=1, cache_path=tmp_path / "cache.sqlite", **LIMITS) as sb:
        first = sb.run([function, *(ProgramJob(SUM, "2\n5 7\n", expected=out) for out in ("12", "13"))])
        again = sb.run([ProgramJob(SUM, "2\n5 7\n", expected="11")])
        stats = sb.stats
    assert [o.status for o in first] == ["ok", "ok", "wrong_answer"] and first[0].value is True
    assert again[0].status == "wrong_answer" and again[0].value == "12\n"
    # one run of the program on that input served all three expected outputs
    assert stats["executions"] == 2 and stats["cache_hits"] == 1


def test_program_jobs_reject_wrong_types():
    with pytest.raises(TypeError, match="ProgramJob.stdin"):
        ProgramJob("print(1)", b"1\n")
    with pytest.raises(ValueError, match="ProgramJob.time_limit_s"):
        ProgramJob("print(1)", "", time_limit_s=0)
