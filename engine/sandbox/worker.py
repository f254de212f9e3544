"""The worker process: contain itself, then run chunks of jobs sent by the host, one reply frame per job.

Started by pool.py through a bootstrap that imports only this package's modules (not `engine`'s
__init__), so a worker holds RestrictedPython, the whitelisted modules and nothing else. Protocol:
  host -> worker: a settings dict, then chunks: lists of ("call", source, entry, args) or
  ("program", source, stdin, cpu_s, memory_mb);
  worker -> host: a hello dict ({"containment": {...}} or {"failed": message}), then one
  (status, value, message) tuple per job, in order, as soon as the job is done, so the host always knows
  which job is running and can kill the worker when that job overruns its wall-clock limit.
"""

from __future__ import annotations

import collections
import gc
import importlib
import math
import os
import pkgutil
import sys
import time
import traceback
import warnings
from collections import OrderedDict
from types import CodeType

from engine.sandbox.channel import encode_frame, read_frame, write_all
from engine.sandbox.containment import (
    LIFETIME_CPU_S,
    address_space_bytes,
    arm_cpu_limit,
    contain,
    limit_address_space,
)
from engine.sandbox.guards import Guards
from engine.sandbox.policy import CompileRejected, compile_verifier
from engine.sandbox.program_io import OUTPUT_LIMIT_EXCEEDED, ProgramIO, restore_interpreter

COMPILED_SOURCES_KEPT = 2048
MAX_VALUE_BYTES = 8 * 2**20
MAX_VALUE_DEPTH = 64
PLAIN_SCALARS = (bool, int, float, str, bytes)
MAX_MESSAGE_CHARS = 2000
# Modules the stdlib imports lazily on first use; after the chroot they could no longer be found.
LAZY_STDLIB = ("_strptime",)


class NotPlain(Exception):
    pass


def to_plain(value, depth: int = 0):
    """Copy a return value into built-in types only, so the host can unpickle it without running code.
    Types are read with type(), never isinstance(): an object whose `__class__` property claims `bool` passes
    isinstance and would come back as a real True."""
    kind = type(value)
    if kind in PLAIN_SCALARS or value is None:
        return value
    if depth >= MAX_VALUE_DEPTH:
        raise NotPlain("return value is nested too deeply")
    if issubclass(kind, (list, tuple, collections.deque)):
        items = [to_plain(item, depth + 1) for item in value]
        return tuple(items) if issubclass(kind, tuple) else items
    if issubclass(kind, dict):
        return {to_plain(k, depth + 1): to_plain(v, depth + 1) for k, v in value.items()}
    if issubclass(kind, (set, frozenset)):
        items = [to_plain(item, depth + 1) for item in value]
        return frozenset(items) if issubclass(kind, frozenset) else set(items)
    for base in PLAIN_SCALARS:  # subclasses such as re.RegexFlag or a verifier's own str subclass
        if issubclass(kind, base):
            return base(value)
    raise NotPlain(f"return value of type {kind.__name__} is not plain data")


def describe(error: BaseException) -> str:
    try:
        text = f"{type(error).__name__}: {error}"
    except BaseException:  # noqa: B036 - str() of a hostile exception may raise anything
        text = type(error).__name__
    return text[:MAX_MESSAGE_CHARS]


class Executor:
    def __init__(self, guards: Guards, cpu_s: int, baseline_bytes: int = 0):
        self.guards = guards
        self.cpu_s = cpu_s
        self.baseline_bytes = baseline_bytes  # the worker's own address space, which a program's budget comes on top of
        self.compiled: OrderedDict[str, CodeType | CompileRejected] = OrderedDict()

    def compile(self, source: str) -> CodeType:
        code = self.compiled.get(source)
        if code is None:
            try:
                code = compile_verifier(source)
            except CompileRejected as rejected:
                code = rejected
            self.compiled[source] = code
            if len(self.compiled) > COMPILED_SOURCES_KEPT:
                self.compiled.popitem(last=False)
        if isinstance(code, CompileRejected):
            raise code
        return code

    def run(self, source: str, entry: str, args: tuple) -> tuple[str, object, str]:
        arm_cpu_limit(self.cpu_s, time.process_time())
        self.guards.violation = None
        try:
            namespace = self.guards.new_globals()
            exec(self.compile(source), namespace)
            function = namespace.get(entry)
            if not callable(function):
                return "error", None, f"entry {entry!r} is not a function defined by the source"
            value = to_plain(function(*args))
            status, message = "ok", ""
        except CompileRejected as rejected:
            return rejected.status, None, rejected.message
        except MemoryError:
            value, status, message = None, "memory", "MemoryError: memory limit reached"
        except NotPlain as e:
            value, status, message = None, "error", str(e)
        except BaseException as e:  # noqa: B036 - SystemExit and KeyboardInterrupt must not end the worker
            value, status, message = None, "error", describe(e)
        if self.guards.violation is not None:
            return "forbidden", None, self.guards.violation
        return status, value, message


    def run_program(self, source: str, stdin: str, cpu_s: float, memory_mb: int | None) -> tuple[str, object, str]:
        """Run `source` as a program on `stdin`: ("ok", its stdout, "") or why not. The memory limit holds from the
        first line of the program to its last, not while the worker compiles it or sends the reply."""
        arm_cpu_limit(math.ceil(cpu_s), time.process_time())
        self.guards.violation = None
        streams = ProgramIO(stdin)
        status, message = "ok", ""
        try:
            code = self.compile(source)
            namespace = self.guards.program_globals(streams)
            limit_address_space(None if memory_mb is None else memory_mb * 2**20, self.baseline_bytes)
            try:
                exec(code, namespace)
            finally:
                limit_address_space(None, self.baseline_bytes)
        except CompileRejected as rejected:
            return rejected.status, None, rejected.message
        except SystemExit as e:
            if not (e.code is None or type(e.code) is int and e.code == 0):  # type(): a program's own __eq__ may lie
                status, message = "error", f"exit status: {describe(e)}"
        except MemoryError:
            status, message = "memory", "MemoryError: memory limit reached"
        except BaseException as e:  # noqa: B036 - KeyboardInterrupt and the like must not end the worker
            status, message = "error", describe(e)
        finally:
            restore_interpreter()
        if self.guards.violation is not None:
            return "forbidden", None, self.guards.violation
        if streams.stdout.exceeded or streams.stderr.exceeded:
            return "error", None, OUTPUT_LIMIT_EXCEEDED
        return status, streams.stdout.text() if status == "ok" else None, message


def preload(allowed_imports: list[str]) -> None:
    """Import now what verifier code may make the stdlib import later, while files are still reachable."""
    import encodings

    for module in pkgutil.iter_modules(encodings.__path__):
        try:
            importlib.import_module(f"encodings.{module.name}")
        except ImportError:  # Windows-only codecs
            pass
    for name in (*allowed_imports, *LAZY_STDLIB):
        importlib.import_module(name)


def serve(read_fd: int, write_fd: int) -> None:
    settings = read_frame(read_fd)
    try:
        warnings.simplefilter("ignore")
        preload(settings["allowed_imports"])
        guards = Guards(settings["allowed_imports"])
        baseline_bytes = address_space_bytes()
        containment = contain(settings["workdir"], settings["memory_mb"])
    except Exception:
        write_all(write_fd, encode_frame({"failed": traceback.format_exc()}))
        return
    write_all(write_fd, encode_frame({"containment": containment}))
    executor = Executor(guards, math.ceil(settings["cpu_s"]), baseline_bytes)
    # Nothing allocated so far is garbage; freezing it keeps the collector's passes short.
    gc.freeze()
    while True:
        chunk = read_frame(read_fd)
        if chunk is None:
            return
        if time.process_time() > LIFETIME_CPU_S / 2:
            return  # retire before the lifetime CPU limit can cut a job short; the host starts a new worker
        for kind, *fields in chunk:
            reply = executor.run(*fields) if kind == "call" else executor.run_program(*fields)
            write_all(write_fd, reply_frame(reply))


def reply_frame(reply: tuple[str, object, str]) -> bytes:
    try:
        frame = encode_frame(reply)
    except BaseException as e:  # noqa: B036 - e.g. MemoryError while pickling a large value
        return encode_frame(("memory" if isinstance(e, MemoryError) else "error", None, describe(e)))
    if len(frame) > MAX_VALUE_BYTES:
        return encode_frame(("error", None, f"return value larger than {MAX_VALUE_BYTES} bytes"))
    return frame


def main() -> None:
    read_fd, write_fd = int(sys.argv[1]), int(sys.argv[2])
    # Keep the protocol off fds 0-2: nothing the stdlib prints can corrupt a frame.
    devnull = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(devnull, fd)
    serve(read_fd, write_fd)

