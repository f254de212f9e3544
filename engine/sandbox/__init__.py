"""Run untrusted, model-written code: RestrictedPython in contained, reusable worker processes.

    from engine.sandbox import Sandbox, Job
    with Sandbox(workers=2, timeout_s=2.0, memory_mb=512) as sb:
        outcomes = sb.run([Job(source=code, entry="evaluate", args=(text,)), ...])

One Outcome per Job, in order; Outcome.status is one of ok, error, timeout, memory, forbidden, syntax.

Program mode runs a whole program on a stdin, as contest judges do, in the same batches and workers:

        outcomes = sb.run([ProgramJob(source=program, stdin="3\n1 2 3\n", expected="6\n", time_limit_s=1.0,
                                      memory_mb=256), ...])
    # .status ok | wrong_answer (stdout judged by judge.py) | timeout | memory | error | forbidden | syntax;
    # .value is the program's stdout. input(), print(), `import sys` (stdin, stdout, stderr, exit,
    # setrecursionlimit...) are bound to the job's own text (program_io.py); the rest is the verifier policy.

What holds. Language level (policy.py, guards.py, views.py): no names or attributes starting with "_", no
frame/code/traceback attributes, no exec/eval/compile/open/globals/vars, str.format and format_map that
cannot follow "{0.__class__}", imports only of whitelisted modules handed out as reduced read-only views
(no submodules: `re.enum.sys` and the like do not exist), writes only to containers and to the verifier's
own objects. OS level, applied by each worker to itself before any untrusted code (containment.py):
RLIMIT_AS from memory_mb, RLIMIT_FSIZE 0, RLIMIT_CORE 0, RLIMIT_NOFILE 32, RLIMIT_NPROC 0, a per-job CPU
limit, an empty temporary directory as chroot and cwd, a scrubbed environment, a new network namespace
(no interfaces), no_new_privs, then an unprivileged uid of its own so that none of those limits can be
raised and RLIMIT_NPROC binds. Sandbox.containment says which of these the kernel granted. The host
enforces the wall-clock limit by SIGKILL of the worker's process group, and reads worker replies with an
unpickler that cannot load classes.

What does not. There is no seccomp filter: if code escaped the language level it could make any system
call its uid, rlimits, chroot and empty network namespace allow (e.g. read the parent's open pipe fds,
burn its CPU budget). Without root (or CAP_SYS_ADMIN / CAP_SYS_CHROOT) the network namespace, chroot and
uid change are skipped, leaving the language level alone against network and file access. A job's CPU
and memory use is bounded, not its effect on the machine's load. The verifier can still see the CPython
version through behaviour, and C-level crashes in CPython itself (e.g. deeply nested map objects) end
the worker, which is reported as an error and replaced.
"""

from engine.sandbox.judge import normalised_output
from engine.sandbox.matrix import cross_validate, cross_validate_groups
from engine.sandbox.outcome import STATUSES, Job, Outcome, ProgramJob, as_verdict
from engine.sandbox.pool import Sandbox

__all__ = ["STATUSES", "Job", "Outcome", "ProgramJob", "Sandbox", "as_verdict", "cross_validate",
           "cross_validate_groups", "normalised_output"]
