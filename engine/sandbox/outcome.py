"""What goes into the sandbox (a Job) and what comes out (an Outcome), plus the verdict rule."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

Status = Literal["ok", "error", "timeout", "memory", "forbidden", "syntax"]
STATUSES: tuple[Status, ...] = ("ok", "error", "timeout", "memory", "forbidden", "syntax")


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
class Outcome:
    """`value` is the return value (plain data: None, bool, int, float, str, bytes and lists, tuples,
    dicts, sets of those) when `status` is "ok", else None; `message` says why when it is not ok."""

    status: Status
    value: Any = None
    message: str = ""


NON_BOOL = Outcome("error", None, "non-bool")


def as_verdict(outcome: Outcome) -> Outcome:
    """Only a real True or False is a verdict: any other value (including "True" or 1) is an error."""
    if outcome.status == "ok" and type(outcome.value) is not bool:
        return NON_BOOL
    return outcome
