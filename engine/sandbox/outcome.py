"""What goes into the sandbox (a Job: call a function; a ProgramJob: run a whole program on a stdin) and what
comes out (an Outcome), plus the verdict rule."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

Status = Literal["ok", "error", "timeout", "memory", "forbidden", "syntax", "wrong_answer"]
# wrong_answer only ever comes from a ProgramJob with an expected output
STATUSES: tuple[Status, ...] = ("ok", "error", "timeout", "memory", "forbidden", "syntax", "wrong_answer")


@dataclass(frozen=True)
class Job:
    """Call `entry(*args)` after executing `source` as a fresh module."""

    source: str
    entry: str
    args: tuple = ()

    def __post_init__(self) -> None:
        if not isinstance(self.source, str) or not isinstance(self.entry, str):
            raise TypeError(f"Job.source and Job.entry must be str, got {type(self.source).__name__} "
                            f"and {type(self.entry).__name__}")
        if not isinstance(self.args, tuple):
            raise TypeError(f"Job.args must be a tuple, got {type(self.args).__name__}")


@dataclass(frozen=True)
class ProgramJob:
    """Run `source` as a whole program (module code, as `__main__`) reading `stdin`; its stdout is the value.

    With `expected`, the output is judged as contest judges do (engine.sandbox.judge: whitespace-insensitive
    tokens, numbers within `float_tolerance` when set): status ok or wrong_answer. `time_limit_s` and `memory_mb`
    are the task's limits (wall clock and CPU; address space the program may add to the worker's), each capped
    by the Sandbox's own timeout_s and memory_mb; None means the cap itself."""

    source: str
    stdin: str
    expected: str | None = None
    float_tolerance: float | None = None
    time_limit_s: float | None = None
    memory_mb: int | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.source, str) or not isinstance(self.stdin, str):
            raise TypeError(f"ProgramJob.source and ProgramJob.stdin must be str, got {type(self.source).__name__} "
                            f"and {type(self.stdin).__name__}")
        if self.expected is not None and not isinstance(self.expected, str):
            raise TypeError(f"ProgramJob.expected must be str or None, got {type(self.expected).__name__}")
        if self.time_limit_s is not None and not self.time_limit_s > 0:
            raise ValueError(f"ProgramJob.time_limit_s: expected seconds > 0, got {self.time_limit_s!r}")
        if self.memory_mb is not None and not (isinstance(self.memory_mb, int) and self.memory_mb >= 1):
            raise ValueError(f"ProgramJob.memory_mb: expected an int >= 1, got {self.memory_mb!r}")
        if self.float_tolerance is not None and not self.float_tolerance >= 0:
            raise ValueError(f"ProgramJob.float_tolerance: expected >= 0, got {self.float_tolerance!r}")


@dataclass(frozen=True)
class Outcome:
    """`value` is the return value (plain data: None, bool, int, float, str, bytes and lists, tuples,
    dicts, sets of those) when `status` is "ok", else None; a ProgramJob's value is its stdout (str), kept with
    wrong_answer too. `message` says why when it is not ok."""

    status: Status
    value: Any = None
    message: str = ""


NON_BOOL = Outcome("error", None, "non-bool")


def as_verdict(outcome: Outcome) -> Outcome:
    """Only a real True or False is a verdict: any other value (including "True" or 1) is an error."""
    if outcome.status == "ok" and type(outcome.value) is not bool:
        return NON_BOOL
    return outcome
