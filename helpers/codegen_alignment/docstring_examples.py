"""A task's known-good tests: the examples in its prompt's docstring, as asserts. Read by the stages (tasks_loaded:
`known_good=docstring_tests`) and by the sim, whose tests are drawn from the same examples, so the sim's code hash
covers this module and not the sandbox programs beside it."""

from __future__ import annotations

import re

DOCTEST = re.compile(r"^\s*>>> (?P<call>.+)\n\s*(?P<expected>(?!>>>)\S.*)$", re.MULTILINE)
ARROW_EXAMPLE = r"^\s*(?P<call>{name}\(.*\))\s*(?:==>|=>|➞|->|==|should return)\s*(?P<expected>\S.*?)\s*$"


def docstring_asserts(prompt: str, entry_point: str) -> list[str]:
    """The prompt's examples (`>>> call` then its value, or `call ➞ value` / `call == value` lines) as
    asserts: the known-good test set of a task."""
    found = [(m["call"].strip(), m["expected"].strip()) for m in DOCTEST.finditer(prompt)]
    found += [(m["call"].strip(), m["expected"].strip().rstrip(".,"))
              for m in re.finditer(ARROW_EXAMPLE.format(name=re.escape(entry_point)), prompt, re.MULTILINE)]
    return list(dict.fromkeys(f"assert {call} == {expected}" for call, expected in found
                              if call.startswith(f"{entry_point}(")))
