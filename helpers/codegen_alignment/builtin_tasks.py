"""A few programming tasks written for this project, used when no dataset path is configured.

Each has what HumanEval has: a prompt (imports, signature, docstring with examples), the entry point, a
reference body and a ground-truth `check(candidate)` that no model ever sees.
"""

from __future__ import annotations

BUILTIN_TASKS: list[dict[str, str]] = [
    {
        "task_id": "Builtin/0",
        "entry_point": "running_max",
        "prompt": '''from typing import List


def running_max(values: List[int]) -> List[int]:
    """Return a list whose i-th item is the largest of values[0..i].
    >>> running_max([1, 3, 2, 5, 4])
    [1, 3, 3, 5, 5]
    >>> running_max([])
    []
    """
''',
        "canonical_solution": '''    out = []
    for value in values:
        out.append(value if not out else max(out[-1], value))
    return out
''',
        "test": '''def check(candidate):
    assert candidate([1, 3, 2, 5, 4]) == [1, 3, 3, 5, 5]
    assert candidate([]) == []
    assert candidate([-2, -5, -1]) == [-2, -2, -1]
    assert candidate([7]) == [7]
''',
    },
    {
        "task_id": "Builtin/1",
        "entry_point": "count_vowels",
        "prompt": '''def count_vowels(text: str) -> int:
    """Count the vowels (a, e, i, o, u, either case) in text.
    >>> count_vowels("Hello World")
    3
    >>> count_vowels("xyz")
    0
    """
''',
        "canonical_solution": '''    return sum(1 for char in text.lower() if char in "aeiou")
''',
        "test": '''def check(candidate):
    assert candidate("Hello World") == 3
    assert candidate("xyz") == 0
    assert candidate("AEIOUaeiou") == 10
    assert candidate("") == 0
''',
    },
    {
        "task_id": "Builtin/2",
        "entry_point": "second_largest",
        "prompt": '''from typing import List, Optional


def second_largest(values: List[int]) -> Optional[int]:
    """Return the second largest distinct value, or None when there is none.
    >>> second_largest([4, 1, 4, 3])
    3
    >>> second_largest([2, 2])
    """
''',
        "canonical_solution": '''    distinct = sorted(set(values))
    return distinct[-2] if len(distinct) >= 2 else None
''',
        "test": '''def check(candidate):
    assert candidate([4, 1, 4, 3]) == 3
    assert candidate([2, 2]) is None
    assert candidate([]) is None
    assert candidate([-1, -7, 0]) == -1
''',
    },
    {
        "task_id": "Builtin/3",
        "entry_point": "is_balanced",
        "prompt": '''def is_balanced(text: str) -> bool:
    """Whether the brackets (), [] and {} in text are balanced and properly nested.
    >>> is_balanced("([]{})")
    True
    >>> is_balanced("(]")
    False
    """
''',
        "canonical_solution": '''    pairs = {")": "(", "]": "[", "}": "{"}
    stack = []
    for char in text:
        if char in "([{":
            stack.append(char)
        elif char in pairs:
            if not stack or stack.pop() != pairs[char]:
                return False
    return not stack
''',
        "test": '''def check(candidate):
    assert candidate("([]{})") is True
    assert candidate("(]") is False
    assert candidate("((") is False
    assert candidate("a(b)c") is True
    assert candidate("") is True
''',
    },
    {
        "task_id": "Builtin/4",
        "entry_point": "compress_runs",
        "prompt": '''def compress_runs(text: str) -> str:
    """Replace each run of a repeated character by the character and the run length.
    >>> compress_runs("aaabcc")
    'a3b1c2'
    >>> compress_runs("")
    ''
    """
''',
        "canonical_solution": '''    out = []
    i = 0
    while i < len(text):
        j = i
        while j < len(text) and text[j] == text[i]:
            j += 1
        out.append(text[i] + str(j - i))
        i = j
    return "".join(out)
''',
        "test": '''def check(candidate):
    assert candidate("aaabcc") == "a3b1c2"
    assert candidate("") == ""
    assert candidate("z") == "z1"
    assert candidate("aabbaa") == "a2b2a2"
''',
    },
    {
        "task_id": "Builtin/5",
        "entry_point": "digit_sum",
        "prompt": '''def digit_sum(n: int) -> int:
    """Sum of the decimal digits of n, ignoring its sign.
    >>> digit_sum(1234)
    10
    >>> digit_sum(-56)
    11
    """
''',
        "canonical_solution": '''    return sum(int(d) for d in str(abs(n)))
''',
        "test": '''def check(candidate):
    assert candidate(1234) == 10
    assert candidate(-56) == 11
    assert candidate(0) == 0
    assert candidate(1000001) == 2
''',
    },
]
