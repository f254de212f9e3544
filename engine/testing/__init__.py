"""Real stand-ins for tests and benchmarks: a loopback OpenAI-compatible server and tiny random models."""

from engine.config import PROJECT_ROOT

# Licensed reference data beside the checkout (../shared/data): read in place by tests and benchmarks, never
# shipped; each user of it skips with a reason when it is absent.
SHARED_DATA = PROJECT_ROOT.parent / "shared" / "data"
