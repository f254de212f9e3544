"""`python -m engine +experiment=NAME [overrides]`: run one experiment (or a sweep with -m).
`python -m engine --check +experiment=NAME [overrides]`: check config, data and endpoints, print the graph, run nothing.
"""

import sys
from pathlib import Path

import hydra
from hydra.core.hydra_config import HydraConfig
from hydra.types import RunMode
from omegaconf import DictConfig

from engine.config import PROJECT_ROOT, ConfigError

CHECK_FLAG = "--check"
CHECK_ONLY = CHECK_FLAG in sys.argv[1:]  # Hydra parses the rest of the command line


@hydra.main(config_path="../conf", config_name="config", version_base="1.3")
def main(cfg: DictConfig) -> str:
    from engine.runner import run

    hydra_cfg = HydraConfig.get()
    if CHECK_ONLY:
        from engine.check_command import check_command

        sys.exit(check_command(cfg, Path(hydra_cfg.runtime.output_dir)))
    if hydra_cfg.mode == RunMode.MULTIRUN:  # finished jobs of an interrupted sweep are skipped, others resume
        from engine.sweep import run_sweep_job

        return run_sweep_job(hydra_cfg, cfg, run)
    try:
        summary = run(cfg, Path(hydra_cfg.runtime.output_dir))
    except ConfigError as e:  # the run directory cannot be written: no summary, only this line
        print(e, file=sys.stderr)
        sys.exit(1)
    if summary["status"] != "ok":
        sys.exit(1)
    return summary["status"]


def _experiment_chosen(argv: list[str]) -> bool:
    return any(a.split("=")[0].lstrip("+") == "experiment" for a in argv) or any(
        a in ("--help", "-h", "--hydra-help", "--info", "--cfg", "-c") or a.startswith("--info") for a in argv
    )


if __name__ == "__main__":
    if CHECK_ONLY:
        sys.argv.remove(CHECK_FLAG)
    if not _experiment_chosen(sys.argv[1:]):
        names = sorted(p.stem for p in (PROJECT_ROOT / "conf" / "experiment").glob("*.yaml"))
        print(f"choose an experiment: python -m engine +experiment=NAME  (available: {', '.join(names)})",
              file=sys.stderr)
        sys.exit(2)
    main()
    from engine.sweep import SweepExitStatus

    sys.exit(1 if SweepExitStatus.failed else 0)
