"""Walk everything verifier code can reach by attribute names and check nothing leads out of the sandbox."""

from __future__ import annotations

import builtins
import types

from engine.sandbox.guards import UNSAFE_VALUE_TYPES, WRITABLE_TYPES, Guards
from engine.sandbox.policy import DIRECT_ATTRIBUTES
from engine.sandbox.pool import default_allowed_imports
from engine.sandbox.views import ModuleView

# Instance fields (all ints) that share a name with a method elsewhere; reading them directly is harmless.
INT_FIELDS = {("range", "start"), ("slice", "start"), ("Pattern", "groups")} | {
    (error, field) for error in ("UnicodeDecodeError", "UnicodeEncodeError", "UnicodeTranslateError")
    for field in ("start", "end")}
REAL_ESCAPES = {id(getattr(builtins, name)) for name in ("open", "eval", "exec", "compile", "__import__",
                                                         "globals", "vars", "locals", "breakpoint", "input")}


def reachable(guards: Guards, depth: int) -> dict[int, tuple[str, object]]:
    """Objects reachable from the views and builtins through guarded attribute reads, by id."""
    seen: dict[int, tuple[str, object]] = {}
    frontier = [(f"builtins.{n}", v) for n, v in guards.globals_template["__builtins__"].items()]
    frontier += [(name, view) for name, view in guards.views.items()]
    for _ in range(depth):
        following = []
        for path, obj in frontier:
            if id(obj) in seen:
                continue
            seen[id(obj)] = (path, obj)
            if not isinstance(obj, (ModuleView, type)):
                continue
            for name in dir(obj):
                try:
                    following.append((f"{path}.{name}", guards.getattr(obj, name)))
                except Exception:  # denied, or a property that fails on the class
                    guards.violation = None
        frontier = following
    return seen


def test_no_module_frame_or_real_builtin_is_reachable():
    for path, obj in reachable(Guards(default_allowed_imports()), depth=4).values():
        assert not isinstance(obj, (types.ModuleType, *UNSAFE_VALUE_TYPES)), path
        assert id(obj) not in REAL_ESCAPES, path


def test_direct_attributes_are_methods_on_every_reachable_class():
    """Names compiled to plain attribute loads must never hold data on a class code can reach."""
    classes = [obj for _, obj in reachable(Guards(default_allowed_imports()), depth=4).values()
               if isinstance(obj, type)]
    assert len(classes) > 100
    for cls in classes:
        for name in DIRECT_ATTRIBUTES:
            value = getattr(cls, name, None)
            if value is not None and (cls.__name__, name) not in INT_FIELDS:
                unsafe = isinstance(value, (type, *UNSAFE_VALUE_TYPES, *WRITABLE_TYPES))
                assert callable(value) and not unsafe, f"{cls.__name__}.{name}"
