"""The compile-time half of the sandbox: RestrictedPython's policy, widened for ordinary verifier code.

Stock RestrictedPython rejects `d[k] += 1`, `self.x += 1`, `nonlocal` and annotated assignments, all common
in model-written verifiers. They are allowed here by rewriting them into calls of run-time guards
(`_aug_item_`, `_aug_attr_`, see guards.py), so the write and read they do stay guarded; the name `__name__` is
allowed (programs test it against "__main__"). Everything else
(no names or attributes starting with "_", no frame/code attributes, no exec/eval, no async, no
`except*`, no `match`) stays as RestrictedPython has it.
"""

from __future__ import annotations

import ast
from types import CodeType

from RestrictedPython import compile_restricted_exec
from RestrictedPython.transformer import INSPECT_ATTRIBUTES, IOPERATOR_TO_STR, RestrictingNodeTransformer

FILENAME = "<verifier>"
# Method names of the built-in types, re matches and patterns, and collections' containers. Reading one
# of them compiles to a plain attribute load instead of a _getattr_ call: they are the bulk of a
# verifier's attribute reads, and none names a module, frame, code object or shared mutable state on
# anything code can reach (tests/sandbox/test_reachability.py checks the classes the whitelist exposes).
DIRECT_ATTRIBUTES = frozenset({
    # str and bytes
    "capitalize", "casefold", "center", "count", "decode", "encode", "endswith", "expandtabs", "find",
    "index", "isalnum", "isalpha", "isascii", "isdecimal", "isdigit", "isidentifier", "islower",
    "isnumeric", "isprintable", "isspace", "istitle", "isupper", "join", "ljust", "lower", "lstrip",
    "partition", "removeprefix", "removesuffix", "replace", "rfind", "rindex", "rjust", "rpartition",
    "rsplit", "rstrip", "split", "splitlines", "startswith", "strip", "swapcase", "title", "translate",
    "upper", "zfill",
    # list, dict, set
    "add", "append", "clear", "copy", "difference", "discard", "extend", "get", "insert", "intersection",
    "isdisjoint", "issubset", "issuperset", "items", "keys", "pop", "remove", "reverse", "setdefault",
    "sort", "symmetric_difference", "union", "update", "values",
    # re patterns and matches, Counter, deque
    "end", "findall", "finditer", "fullmatch", "group", "groupdict", "groups", "match", "search", "span",
    "start", "sub", "subn", "most_common", "elements", "total", "appendleft", "popleft",
})


class CompileRejected(Exception):
    """The source cannot run: `status` is "syntax" (not Python) or "forbidden" (outside the policy)."""

    def __init__(self, status: str, message: str):
        super().__init__(message)
        self.status = status
        self.message = message


class VerifierPolicy(RestrictingNodeTransformer):
    def visit_Attribute(self, node: ast.Attribute) -> ast.AST:
        if isinstance(node.ctx, ast.Load) and node.attr in DIRECT_ATTRIBUTES:
            return self.node_contents_visit(node)
        return super().visit_Attribute(node)

    def check_name(self, node: ast.AST, name: str | None, allow_magic_methods: bool = False) -> None:
        # `if __name__ == "__main__":` opens most programs; the name only holds the module's own label (only as a
        # plain name: not as an import, argument or attribute)
        if not (name == "__name__" and isinstance(node, ast.Name)):
            super().check_name(node, name, allow_magic_methods)

    def visit_Nonlocal(self, node: ast.Nonlocal) -> ast.AST:
        # The names were checked where they were bound; rebinding them in a closure reaches nothing new.
        for name in node.names:
            self.check_name(node, name)
        return node

    def visit_AnnAssign(self, node: ast.AnnAssign) -> ast.AST:
        # Target, annotation and value are ordinary expressions and get the ordinary checks.
        return self.node_contents_visit(node)

    def visit_AugAssign(self, node: ast.AugAssign) -> ast.AST:
        target = node.target
        if isinstance(target, ast.Name):
            return super().visit_AugAssign(node)
        op = ast.Constant(IOPERATOR_TO_STR[type(node.op)])
        if isinstance(target, ast.Attribute):
            self.check_attribute_name(node, target.attr)
            guard, key = "_aug_attr_", ast.Constant(target.attr)
        else:
            guard, key = "_aug_item_", self.visit(target.slice)
        call = ast.Call(func=ast.Name(guard, ast.Load()),
                        args=[op, self.visit(target.value), key, self.visit(node.value)], keywords=[])
        statement = ast.Expr(call)
        ast.copy_location(statement, node)
        return ast.fix_missing_locations(statement)

    def check_attribute_name(self, node: ast.AST, name: str) -> None:
        """The checks RestrictingNodeTransformer.visit_Attribute makes, for targets we rewrite ourselves."""
        if name.startswith("_") or name.endswith("__roles__") or name in INSPECT_ATTRIBUTES:
            self.error(node, f'"{name}" is an invalid attribute name.')


def compile_verifier(source: str) -> CodeType:
    """Compile untrusted source under the policy, or raise CompileRejected.

    Run this in the worker, never in the host: a pathological source can take seconds and hundreds of MB.
    """
    try:
        tree = ast.parse(source, FILENAME, "exec")
    except SyntaxError as e:
        raise CompileRejected("syntax", f"line {e.lineno}: {e.msg}") from None
    except (ValueError, RecursionError, MemoryError) as e:
        raise CompileRejected("syntax", f"cannot parse: {type(e).__name__}: {e}") from None
    try:
        result = compile_restricted_exec(tree, FILENAME, policy=VerifierPolicy)
    except SyntaxError as e:  # found by the compiler after the policy, e.g. 'return' outside function
        raise CompileRejected("syntax", f"line {e.lineno}: {e.msg}") from None
    except (RecursionError, MemoryError) as e:
        raise CompileRejected("syntax", f"cannot compile: {type(e).__name__}") from None
    if result.errors:
        raise CompileRejected("forbidden", "; ".join(result.errors))
    return result.code
