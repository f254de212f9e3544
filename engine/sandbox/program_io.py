"""Worker side of program mode: the stdin, stdout and reduced `sys` a whole program sees.

A contest program reads with input(), sys.stdin.readline/read/buffer or `for line in sys.stdin`, and writes with
print() or sys.stdout.write. Those are given here as small objects over the job's own text, never the worker's
file descriptors (fds 0-2 are /dev/null and the protocol pipes must stay out of reach). `import sys` gives a view
with only what such programs use; every other import goes through the verifier whitelist as before, so
`import os`, open() and the like are violations ("forbidden"). What a program may change in the interpreter
(its recursion limit, the int-to-str digit limit) is put back after each job.
"""

from __future__ import annotations

import io
import sys
import types

# Deep recursion (DFS on 1e5 nodes) is common in contest code; past this the C stack could overflow, which only
# kills the worker (reported as an error), but the worker's later jobs must not inherit the limit either.
MAX_RECURSION_LIMIT = 100_000
MAX_OUTPUT_CHARS = 4 * 2**20
DEFAULT_RECURSION_LIMIT = sys.getrecursionlimit()
DEFAULT_INT_DIGITS = sys.get_int_max_str_digits()


OUTPUT_LIMIT_EXCEEDED = f"output limit exceeded: more than {MAX_OUTPUT_CHARS} characters"


class Stdout:
    def __init__(self) -> None:
        self.parts: list[str] = []
        self.size = 0
        self.exceeded = False  # kept apart from the exception, which the program may catch
        self.buffer = BinaryStdout(self)

    def write(self, text: str) -> int:
        if type(text) is not str:
            raise TypeError(f"write() argument must be str, not {type(text).__name__}")
        self.size += len(text)
        if self.size > MAX_OUTPUT_CHARS:
            self.exceeded = True
            raise OSError(OUTPUT_LIMIT_EXCEEDED)
        self.parts.append(text)
        return len(text)

    def writelines(self, lines) -> None:
        for line in lines:
            self.write(line)

    def flush(self) -> None:
        pass

    def text(self) -> str:
        return "".join(self.parts)


class BinaryStdout:
    def __init__(self, stdout: Stdout):
        self.stdout = stdout

    def write(self, data) -> int:
        return self.stdout.write(bytes(data).decode("utf-8", errors="replace"))

    def flush(self) -> None:
        pass


class Stderr(Stdout):
    """What a program writes to stderr is dropped, as judges ignore it, but it counts against the output limit."""

    def write(self, text: str) -> int:
        count = super().write(text)
        self.parts.clear()
        return count


class Stdin:
    """Text stdin over the job's input; reading past its end gives '' (readline) or EOFError (input())."""

    def __init__(self, text: str):
        self.stream = io.StringIO(text)
        self.buffer = BinaryStdin(text.encode())

    def read(self, size: int = -1) -> str:
        return self.stream.read(size)

    def readline(self, size: int = -1) -> str:
        return self.stream.readline(size)

    def readlines(self) -> list[str]:
        return self.stream.readlines()

    def __iter__(self):
        return iter(self.stream.readline, "")


class BinaryStdin:
    def __init__(self, data: bytes):
        self.stream = io.BytesIO(data)

    def read(self, size: int = -1) -> bytes:
        return self.stream.read(size)

    def readline(self, size: int = -1) -> bytes:
        return self.stream.readline(size)

    def readlines(self) -> list[bytes]:
        return self.stream.readlines()

    def __iter__(self):
        return iter(self.stream.readline, b"")


def set_recursion_limit(limit: int) -> None:
    sys.setrecursionlimit(max(50, min(int(limit), MAX_RECURSION_LIMIT)))


def set_int_max_str_digits(digits: int) -> None:
    sys.set_int_max_str_digits(digits)


def exit_program(code: object = None) -> None:
    """sys.exit()/exit(): code 0 or None ends the program normally, anything else is a runtime error."""
    raise SystemExit(code)


def restore_interpreter() -> None:
    sys.setrecursionlimit(DEFAULT_RECURSION_LIMIT)
    sys.set_int_max_str_digits(DEFAULT_INT_DIGITS)


class ProgramIO:
    """One job's streams, and the names that bind a program to them."""

    def __init__(self, stdin: str):
        self.stdin = Stdin(stdin)
        self.stdout = Stdout()
        self.stderr = Stderr()
        self.sys = types.SimpleNamespace(
            stdin=self.stdin, stdout=self.stdout, stderr=self.stderr, exit=exit_program, maxsize=sys.maxsize,
            setrecursionlimit=set_recursion_limit, getrecursionlimit=sys.getrecursionlimit,
            set_int_max_str_digits=set_int_max_str_digits, get_int_max_str_digits=sys.get_int_max_str_digits)

    def input(self, prompt: object = "") -> str:
        line = self.stdin.readline()
        if not line:
            raise EOFError("EOF when reading a line")
        return line.removesuffix("\n")

    def print_collector(self, getattr_=None) -> Printer:
        """RestrictedPython's `_print_` factory: every print() of the program writes to this job's stdout."""
        return Printer(self.stdout, getattr_)


class Printer:
    def __init__(self, stdout: Stdout, getattr_):
        self.stdout = stdout
        self.getattr_ = getattr_

    def _call_print(self, *objects, **kwargs) -> None:
        target = kwargs.get("file")
        if target is None:
            kwargs["file"] = self.stdout
        else:
            self.getattr_(target, "write")  # the guard decides whether the program may write there
        print(*objects, **kwargs)
