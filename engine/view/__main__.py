"""python -m engine.view RUN_DIR [--port 8000] [--cache-dir DIR]: serve the run browser on 127.0.0.1."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from engine.view.server import HOST, make_server


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m engine.view", description=__doc__)
    parser.add_argument("run_dir", type=Path, help="a run directory, or a sweep directory of job directories")
    parser.add_argument("--port", type=int, default=8000, help="0: any free port")
    parser.add_argument("--cache-dir", type=Path, default=None,
                        help="where the run's response cache is, to show model replies (default: its cache_dir)")
    args = parser.parse_args(argv)
    try:
        server = make_server(args.run_dir, args.port, args.cache_dir)
    except (ValueError, OSError) as e:
        print(f"engine.view: {e}", file=sys.stderr)
        return 2
    print(f"serving {args.run_dir} read-only at http://{HOST}:{server.server_address[1]}/ (Ctrl-C to stop)",
          file=sys.stderr)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
