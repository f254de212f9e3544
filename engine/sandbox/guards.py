"""The run-time half of the sandbox: builtins and the guard functions restricted code calls.

RestrictedPython compiles `a.b` to `_getattr_(a, "b")`, `a[k]` to `_getitem_(a, k)`, `a.b = v` and
`a[k] = v` to writes through `_write_(a)`, `import m` to the `__import__` builtin, and so on; this module
supplies those names. A denied access raises SandboxViolation and is also recorded on the Guards object,
so code that catches the exception is still reported as "forbidden".
"""

from __future__ import annotations

import _string
import builtins
import collections
import operator
import string
import types
from collections.abc import Iterable

from RestrictedPython.Guards import guarded_iter_unpack_sequence, guarded_unpack_sequence, safe_builtins
from RestrictedPython.PrintCollector import PrintCollector
from RestrictedPython.transformer import INSPECT_ATTRIBUTES

from engine.sandbox.program_io import ProgramIO, exit_program
from engine.sandbox.views import module_view

# Objects that would let code leave the sandbox however they were reached.
UNSAFE_VALUE_TYPES = (types.ModuleType, types.FrameType, types.CodeType, types.TracebackType)
# Mutable containers code may write into, plus instances and classes created by the verifier itself.
WRITABLE_TYPES = (dict, list, set, bytearray, collections.deque)
# Values the attribute guard looks at twice: unsafe everywhere, or mutable and shared when on a class.
CHECKED_VALUE_TYPES = (*UNSAFE_VALUE_TYPES, *WRITABLE_TYPES)
FORMAT_METHODS = frozenset({"format", "format_map"})
CHECKED_ATTRIBUTES = INSPECT_ATTRIBUTES | FORMAT_METHODS
INPLACE_OPERATORS = {
    "+=": operator.iadd, "-=": operator.isub, "*=": operator.imul, "/=": operator.itruediv,
    "//=": operator.ifloordiv, "%=": operator.imod, "**=": operator.ipow, "<<=": operator.ilshift,
    ">>=": operator.irshift, "&=": operator.iand, "^=": operator.ixor, "|=": operator.ior,
    "@=": operator.imatmul,
}
# Real builtins beyond RestrictedPython's safe set. Those that iterate in C (sorted, zip, ...) are fine
# here: _getiter_ is plain iter, the guards sit on attribute, item, write and import access instead.
EXTRA_BUILTINS = (
    "all", "any", "ascii", "bin", "bytearray", "bytes", "classmethod", "dict", "enumerate", "filter",
    "format", "frozenset", "iter", "list", "map", "max", "min", "next", "object", "property", "reversed",
    "set", "sorted", "staticmethod", "sum", "super", "tuple", "type", "zip", "NotImplemented",
)
# Calling one of these is a violation rather than a NameError, so the attempt is reported as such.
FORBIDDEN_BUILTINS = (
    "open", "eval", "exec", "compile", "globals", "locals", "vars", "dir", "input", "breakpoint", "help",
    "exit", "quit", "memoryview", "delattr",
)


class SandboxViolation(Exception):
    """Raised by a guard; the job is reported as "forbidden" even if the code catches it."""


class VerifierClass(type):
    """Metaclass of every class the verifier defines, so the write guard can tell its objects apart."""


class Guards:
    """The names restricted code runs against, for one worker process and one import whitelist."""

    def __init__(self, allowed_imports: Iterable[str]):
        self.violation: str | None = None
        self.views = {name: module_view(name, self.deny) for name in allowed_imports}
        self.globals_template = {
            "__builtins__": self.make_builtins(),
            "__name__": "verifier",
            "__metaclass__": VerifierClass,
            "_getattr_": self.getattr,
            "_getitem_": self.getitem,
            "_getiter_": iter,
            "_iter_unpack_sequence_": guarded_iter_unpack_sequence,
            "_unpack_sequence_": guarded_unpack_sequence,
            "_write_": self.write,
            "_inplacevar_": inplace,
            "_aug_attr_": self.aug_attr,
            "_aug_item_": self.aug_item,
            "_apply_": apply,
            "_print_": PrintCollector,
        }

    def new_globals(self) -> dict:
        """A fresh module namespace: jobs never see each other's globals."""
        return dict(self.globals_template)

    def program_globals(self, streams: ProgramIO) -> dict:
        """A fresh namespace for a whole program run as `__main__`: input(), print(), exit() and `import sys`
        bound to this job's streams (program_io.py); everything else as for verifiers."""
        names = dict(self.globals_template["__builtins__"])

        def import_module(name, globals=None, locals=None, fromlist=(), level=0):
            if type(name) is str and name == "sys" and level == 0 and type(fromlist) is not list:
                return streams.sys
            return self.import_module(name, globals, locals, fromlist, level)

        names.update({"input": streams.input, "exit": exit_program, "quit": exit_program, "__import__": import_module})
        return {**self.globals_template, "__builtins__": names, "__name__": "__main__",
                "_print_": streams.print_collector}

    def deny(self, message: str) -> None:
        if self.violation is None:
            self.violation = message
        raise SandboxViolation(message)

    def make_builtins(self) -> dict:
        names = dict(safe_builtins)
        names.update({name: getattr(builtins, name) for name in EXTRA_BUILTINS})
        for name in FORBIDDEN_BUILTINS:
            names[name] = self.forbidden_builtin(name)
        names.update({"__import__": self.import_module, "getattr": self.getattr, "hasattr": self.hasattr,
                      "setattr": self.setattr})
        return names

    def forbidden_builtin(self, name: str):
        def forbidden(*args, **kwargs):
            self.deny(f"{name}() is not available to verifiers")

        return forbidden

    def import_module(self, name, globals=None, locals=None, fromlist=(), level=0):
        if type(fromlist) is list:
            # Only C code calls __import__ with a list (PyImport_Import, e.g. datetime.strftime importing
            # time); import statements pass None or a tuple and code cannot name __import__ itself. The
            # module goes to that C code, never to the verifier.
            return builtins.__import__(name, globals, locals, fromlist, level)
        if level != 0 or type(name) is not str or name not in self.views:
            self.deny(f"import of {name!r} is not allowed")
        return self.views[name]

    def getattr(self, obj, name, *default):
        if type(name) is not str:
            raise TypeError(f"attribute name must be str, not {type(name).__name__}")
        if name in CHECKED_ATTRIBUTES or name[:1] == "_":
            if name in FORMAT_METHODS:
                return self.format_method(obj, name, *default)
            self.deny(f"access to attribute {name!r} is not allowed")
        value = getattr(obj, name, *default)
        if isinstance(value, CHECKED_VALUE_TYPES):
            if isinstance(value, UNSAFE_VALUE_TYPES):
                self.deny(f"attribute {name!r} holds a {type(value).__name__}")
            if isinstance(obj, type) and not isinstance(obj, VerifierClass):
                # A class attribute of a stdlib class is shared by every later job in this worker.
                self.deny(f"attribute {name!r} of class {obj.__name__} is shared mutable state")
        return value

    def format_method(self, obj, name: str, *default):
        if isinstance(obj, str):
            return lambda *args, **kwargs: self.format_string(obj, name, args, kwargs)
        if isinstance(obj, type) and issubclass(obj, str):
            return lambda template, *args, **kwargs: self.format_string(template, name, args, kwargs)
        return getattr(obj, name, *default)

    def hasattr(self, obj, name) -> bool:
        try:
            self.getattr(obj, name)
        except AttributeError:
            return False
        return True

    def getitem(self, obj, key):
        value = obj[key]
        if isinstance(value, UNSAFE_VALUE_TYPES):
            self.deny(f"item holds a {type(value).__name__}")
        return value

    def write(self, obj):
        if isinstance(obj, (*WRITABLE_TYPES, VerifierClass)) or isinstance(type(obj), VerifierClass):
            return obj
        self.deny(f"objects of type {type(obj).__name__} cannot be modified by verifiers")

    def setattr(self, obj, name, value) -> None:
        if type(name) is not str or name.startswith("_"):
            self.deny(f"setting attribute {name!r} is not allowed")
        setattr(self.write(obj), name, value)

    def aug_attr(self, op: str, obj, name: str, value) -> None:
        setattr(self.write(obj), name, inplace(op, self.getattr(obj, name), value))

    def aug_item(self, op: str, obj, key, value) -> None:
        self.write(obj)[key] = inplace(op, self.getitem(obj, key), value)

    def format_string(self, template: str, method: str, args: tuple, kwargs: dict) -> str:
        """str.format / str.format_map where a field may not reach attributes or items unguarded."""
        mapping = kwargs
        if method == "format_map":
            (mapping,) = args
            args = ()
        if not any(field and ("." in field or "[" in field) or (spec and "{" in spec)
                   for _, field, spec, _ in _string.formatter_parser(template)):
            # Plain fields only: the C implementation cannot reach anything the arguments do not hold.
            if method == "format_map":
                return str.format_map(template, mapping)
            return str.format(template, *args, **mapping)
        return GuardedFormatter(self).vformat(template, args, mapping)


class GuardedFormatter(string.Formatter):
    def __init__(self, guards: Guards):
        self.guards = guards

    def get_field(self, field_name, args, kwargs):
        first, rest = _string.formatter_field_name_split(field_name)
        obj = self.get_value(first, args, kwargs)
        for is_attribute, key in rest:
            obj = self.guards.getattr(obj, key) if is_attribute else self.guards.getitem(obj, key)
        return obj, first


def inplace(op: str, target, value):
    return INPLACE_OPERATORS[op](target, value)


def apply(function, *args, **kwargs):
    return function(*args, **kwargs)
