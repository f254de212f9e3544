"""Hostile or runaway verifier code, each with the statuses that count as contained.

One attack per line, however long: the sources read best unwrapped.

Every source defines `evaluate(text)`; tests run them all as one batch (see conftest.py).
"""

# ruff: noqa: E501
from __future__ import annotations

from dataclasses import dataclass
from textwrap import dedent


@dataclass(frozen=True)
class Attack:
    name: str
    source: str
    expected: frozenset[str]


def attack(name: str, body: str, *expected: str, top: str = "") -> Attack:
    """`body` is the function body (indented by this helper); `top` goes above the function."""
    source = dedent(top) + "\ndef evaluate(text):\n" + "".join(f"    {line}\n" for line in dedent(body).splitlines())
    return Attack(name, source, frozenset(expected))


F, T, M, E, S = "forbidden", "timeout", "memory", "error", "syntax"

ATTACKS = [
    # files
    attack("read_etc_passwd", "return open('/etc/passwd').read()", F),
    attack("write_tmp", "open('/tmp/pwned', 'w').write('x')\nreturn True", F),
    attack("builtins_dict_open", "return __builtins__['open']('/etc/passwd').read()", F),
    attack("io_open", "import io\nreturn io.open('/etc/passwd').read()", F),
    attack("pathlib_read", "from pathlib import Path\nreturn Path('/etc/passwd').read_text()", F),
    # imports, by every route
    attack("import_os", "import os\nreturn os.listdir('/')", F),
    attack("import_os_top_level", "return os.getcwd()", F, top="import os"),
    attack("import_subprocess", "import subprocess\nreturn subprocess.run(['id']).returncode", F),
    attack("import_socket", "import socket\nreturn socket.gethostname()", F),
    attack("import_ctypes", "import ctypes\nreturn ctypes.CDLL(None).getpid()", F),
    attack("dunder_import", "return __import__('os').getcwd()", F),
    attack("importlib", "import importlib\nreturn importlib.import_module('os').getcwd()", F),
    attack("import_builtins", "import builtins\nreturn builtins.open('/etc/passwd').read()", F),
    attack("from_os_import_system", "from os import system\nreturn system('id')", F),
    attack("relative_import", "from . import secrets\nreturn secrets", F),
    attack("import_sys", "import sys\nreturn sys.modules['os'].getcwd()", F),
    attack("import_submodule", "import json.decoder\nreturn str(json.decoder)", F),
    attack("from_import_submodule", "from json import decoder\nreturn str(decoder)", F),
    attack("import_posix", "import posix\nreturn posix.getcwd()", F),
    attack("import_threading", "import threading\nthreading.Thread(target=len).start()\nreturn True", F),
    attack("import_operator_attrgetter", "import operator\nreturn operator.attrgetter('__class__')(text)", F),
    # module attribute chains to sys and the real builtins
    attack("re_enum_sys", "import re\nreturn re.enum.sys.modules['os'].getcwd()", F),
    attack("json_codecs_builtins", "import json\nreturn json.codecs.builtins.open('/etc/passwd').read()", F),
    attack("typing_sys", "import typing\nreturn typing.sys.modules['os'].getcwd()", F),
    attack("textwrap_re_enum", "import textwrap\nreturn textwrap.re.enum.sys.platform", F),
    attack("getattr_module_chain", "import re\nreturn getattr(getattr(re, 'enum'), 'sys').platform", F),
    attack("typing_get_type_hints", "import typing\nreturn str(typing.get_type_hints)", F),
    attack("functools_update_wrapper", "import functools, json\nfunctools.update_wrapper(json.loads, len)\nreturn True", F),
    attack("string_formatter", "import string\nreturn string.Formatter().format('{0.__class__}', text)", F),
    # class hierarchy escapes
    attack("subclasses_syntax", "return [c.__name__ for c in ().__class__.__base__.__subclasses__()]", F),
    attack("subclasses_getattr", "base = getattr(getattr((), '__cla' + 'ss__'), '__base__')\n"
                                 "return len(getattr(base, '__subclasses__')())", F),
    attack("subclasses_via_mro", "root = type(()).mro()[-1]\nreturn len(getattr(root, '__subclasses__')())", F),
    attack("function_globals", "return getattr(evaluate, '__globals__')", F),
    attack("builtin_self", "return getattr(len, '__self__')", F),
    # frames
    attack("generator_gi_frame", "g = (x for x in [1])\nreturn g.gi_frame.f_globals", F),
    attack("generator_gi_frame_getattr", "g = (x for x in [1])\nreturn getattr(getattr(g, 'gi_' + 'frame'), 'f_back')", F),
    attack("traceback_tb_frame", "try:\n    1 / 0\nexcept Exception as e:\n    return e.__traceback__.tb_frame", F),
    attack("traceback_getattr", "try:\n    1 / 0\nexcept Exception as e:\n"
                                "    return getattr(getattr(e, '__traceback__'), 'tb_frame')", F),
    attack("f_globals_getattr", "g = (x for x in [1])\nf = getattr(g, 'gi_frame')\nreturn getattr(f, 'f_globals')", F),
    # attribute access through format strings and computed names
    attack("str_format_class", "return '{0.__class__}'.format(text)", F),
    attack("str_format_globals", "return '{0.__globals__}'.format(evaluate)", F),
    attack("str_format_map", "return '{x.__class__.__mro__}'.format_map({'x': text})", F),
    attack("str_format_unbound", "return str.format('{0.__class__}', text)", F),
    attack("str_format_nested_spec", "return '{0:{1.__class__}}'.format(1, text)", F),
    attack("str_format_item_dunder", "return '{0[__builtins__]}'.format(getattr(evaluate, 'f_globals', {}))", F),
    attack("getattr_computed_dunder", "return getattr(text, '_' + '_class__')", F),
    attack("getattr_str_subclass_name", "class N(str):\n    def startswith(self, prefix):\n        return False\n"
                                        "return getattr(text, N('__class__'))", F, E),
    # writes to shared state
    attack("overwrite_module_function", "import json\njson.loads = len\nreturn True", F),
    attack("setattr_module", "import re\nsetattr(re, 'compile', None)\nreturn True", F),
    attack("mutate_stdlib_class_state", "import textwrap\n"
                                        "textwrap.TextWrapper.unicode_whitespace_trans[65] = 'x'\nreturn True", F),
    attack("set_stdlib_class_attribute", "import json\njson.JSONDecoder.decode = len\nreturn True", F),
    # dynamic code
    attack("exec_call", "exec('import os')\nreturn True", F),
    attack("eval_call", "return eval('1 + 1')", F),
    attack("compile_call", "return compile('1', 'x', 'eval')", F),
    attack("globals_call", "return globals()", F),
    attack("vars_call", "return vars()", F),
    attack("breakpoint_call", "breakpoint()\nreturn True", F),
    # processes, network, signals, environment
    attack("fork", "import os\nreturn os.fork()", F),
    attack("socket_connect", "import socket\ns = socket.socket()\ns.connect(('1.1.1.1', 80))\nreturn True", F),
    attack("signal_alarm", "import signal\nsignal.alarm(1)\nreturn True", F),
    attack("kill_parent", "import os\nos.kill(os.getppid(), 9)\nreturn True", F),
    attack("environment", "import os\nreturn dict(os.environ)", F),
    attack("swallowed_violation", "try:\n    import os\nexcept Exception:\n    pass\nreturn True", F),
    attack("swallowed_module_chain", "import re\ntry:\n    re.enum\nexcept BaseException:\n    pass\nreturn True", F),
    # killing the worker loop
    attack("sys_exit", "import sys\nsys.exit(0)", F),
    attack("exit_builtin", "exit(0)", F),
    attack("raise_system_exit", "raise SystemExit(0)", E),
    attack("raise_keyboard_interrupt", "raise KeyboardInterrupt", E),
    attack("raise_base_exception", "raise BaseException('bye')", E),
    attack("raise_generator_exit", "raise GeneratorExit", E),
    attack("segfault_nested_map", "x = iter([1])\nfor _ in range(1000000):\n    x = map(abs, x)\nreturn next(x)", E),
    # runaway time
    attack("infinite_loop", "while True:\n    pass", T),
    attack("c_level_loop", "import itertools\nreturn any(itertools.repeat(0))", T),
    attack("catastrophic_regex", "import re\nreturn bool(re.match(r'(a+)+$', 'a' * 64 + 'b'))", T),
    attack("huge_int_power", "return 10 ** 10 ** 10 > 0", T, M),
    attack("deep_recursion", "def down(n):\n    return down(n + 1)\nreturn down(0)", E),
    # runaway memory
    attack("huge_string_repeat", "return len('a' * 10 ** 10)", M),
    attack("growing_list", "chunks = []\nwhile True:\n    chunks.append(' ' * 10 ** 6)", M),
    attack("huge_bytearray", "return len(bytearray(10 ** 10))", M),
    attack("huge_return_value", "return 'a' * 30_000_000", E),
    # broken code
    attack("syntax_error", "return (", S),
    attack("compile_bomb", "return " + "+".join(["1"] * 200_000), S, T, M),
    attack("not_plain_return_value", "return evaluate", E),
]
