"""Real stand-ins for tests and benchmarks: a loopback OpenAI-compatible server and tiny random models."""
