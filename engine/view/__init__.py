"""The run browser: `python -m engine.view RUN_DIR [--port 8000]` serves a read-only page of a run (or a sweep's
runs) on 127.0.0.1: its funnel, its tables, each row's lineage and model calls, and a sweep's jobs side by side."""
