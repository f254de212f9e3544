"""Reduced, read-only views of the whitelisted modules: what `import re` gives verifier code.

Handing out the real modules is not safe: on Python 3.11 `re.enum.sys`, `json.codecs.builtins`,
`typing.sys` and the like reach the real builtins and `sys` through plain attribute names. A view keeps
only a module's public functions, classes and immutable constants; submodules, mutable module state and
the few members listed below are left out, and touching one of those is a violation.
"""

from __future__ import annotations

import functools
import importlib
import types
from collections.abc import Callable

# Members left out although they look harmless, each for a reason.
EXCLUDED_MEMBERS: dict[str, frozenset[str]] = {
    # Formatter.get_field follows "{0.__class__}" with the real getattr.
    "string": frozenset({"Formatter"}),
    # They copy attributes onto their first argument, which may be a shared stdlib function or class.
    "functools": frozenset({"update_wrapper", "wraps"}),
}
# For these modules only the listed members exist: typing.get_type_hints evaluates annotation strings
# with the real eval, and most of the rest is machinery verifiers never need.
ONLY_MEMBERS: dict[str, frozenset[str]] = {
    "typing": frozenset({
        "Any", "Callable", "Counter", "DefaultDict", "Deque", "Dict", "FrozenSet", "Iterable", "Iterator",
        "List", "Literal", "Mapping", "Optional", "Sequence", "Set", "Tuple", "Union", "cast",
    }),
}
CONSTANT_TYPES = (bool, int, float, complex, str, bytes, frozenset, type(None))
CALLABLE_TYPES = (type, types.FunctionType, types.BuiltinFunctionType, functools.partial)


class ModuleView(types.SimpleNamespace):
    """A module's safe members as plain attributes (fast to read; writes are refused by the write guard)."""

    def __getattr__(self, name: str):
        # Only called for names that are not members. No __name__ on purpose: `from m import x` falls back
        # to sys.modules[m.__name__ + ".x"] when getattr fails, which would hand out a real submodule.
        module = self.__dict__["_module"]
        if name in self.__dict__["_hidden"]:
            self.__dict__["_deny"](f"module {module!r} does not expose {name!r} to verifiers")
        raise AttributeError(f"module {module!r} has no attribute {name!r}")

    def __repr__(self) -> str:
        return f"<module {self.__dict__['_module']!r} (sandbox view)>"


def is_exposable(value: object) -> bool:
    if isinstance(value, types.ModuleType):
        return False
    return isinstance(value, CONSTANT_TYPES) or isinstance(value, CALLABLE_TYPES)


def module_view(name: str, deny: Callable[[str], None]) -> ModuleView:
    module = importlib.import_module(name)
    only = ONLY_MEMBERS.get(name)
    excluded = EXCLUDED_MEMBERS.get(name, frozenset())
    members, hidden = {}, set()
    for member in dir(module):
        if member.startswith("_"):
            continue
        value = getattr(module, member)
        allowed = only is not None and member in only and not isinstance(value, types.ModuleType)
        if only is None and member not in excluded and is_exposable(value):
            allowed = True
        if allowed:
            members[member] = value
        else:
            hidden.add(member)
    return ModuleView(**members, _module=name, _hidden=frozenset(hidden), _deny=deny)
