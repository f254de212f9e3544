"""Push a run's Hugging Face dataset and its card to the Hub:

    python -m engine.publish RUN_DIR --repo ORG/NAME [--private] [--dry-run]

What is uploaded is exports/hf/ as the run wrote it (engine.hf_dataset, engine.dataset_card): the card README.md, with
the repo's name in its loading example, and each config's arrow files, dataset_info.json and state.json. The token is
huggingface_hub's (HF_TOKEN, or `hf auth login`); without one nothing is sent and the command says so.
"""

from __future__ import annotations

import argparse
import re
import sys
from dataclasses import dataclass
from pathlib import Path

from engine.dataset_card import CARD
from engine.hf_dataset import HF_DIR

REPO = re.compile(r"^[A-Za-z0-9][\w.-]*/[A-Za-z0-9][\w.-]*$")


class PublishError(Exception):
    """What stops a push, in the user's terms."""


@dataclass(frozen=True)
class Upload:
    path_in_repo: str
    content: bytes


def upload_plan(run_dir: Path, repo: str) -> list[Upload]:
    """The files a push of `run_dir` to `repo` sends, in order: the card first."""
    if not REPO.match(repo):
        raise PublishError(f"--repo takes the Hub's ORG/NAME (e.g. my-org/autoif-sft), found {repo!r}")
    folder = run_dir / HF_DIR
    if not (folder / "dataset_dict.json").is_file():
        raise PublishError(f"{run_dir} has no Hugging Face dataset ({HF_DIR}/ is missing): publish the directory of "
                           "a finished run whose experiment exports one (autoif, principle_examples)")
    if not (folder / CARD).is_file():
        raise PublishError(f"{folder / CARD} is missing: the card is written when the run finishes; rerun the same "
                           "command to finish it (finished stages are reused)")
    card = (folder / CARD).read_text().replace('"ORG/NAME"', f'"{repo}"').encode()
    files = sorted(p for p in folder.rglob("*") if p.is_file() and p.name != CARD)
    return [Upload(CARD, card)] + [Upload(p.relative_to(folder).as_posix(), p.read_bytes()) for p in files]


def publish(run_dir: Path, repo: str, *, private: bool = False, dry_run: bool = False) -> str | None:
    """Push, printing what goes where; the dataset's URL, or None on a dry run."""
    from huggingface_hub import CommitOperationAdd, HfApi, get_token

    plan = upload_plan(run_dir, repo)
    token = None if dry_run else get_token()
    url = f"https://huggingface.co/datasets/{repo}"
    verb = "uploading" if token else "would upload"
    print(f"{verb} {len(plan)} files ({sum(len(u.content) for u in plan):,} bytes) to {url}:", file=sys.stderr)
    for upload in plan:
        print(f"  {upload.path_in_repo}  ({len(upload.content):,} bytes)", file=sys.stderr)
    if dry_run:
        return None
    if token is None:
        raise PublishError("no Hugging Face token: set HF_TOKEN to a token with write access, or run `hf auth login`;"
                           " nothing was uploaded")
    from huggingface_hub.errors import HfHubHTTPError, OfflineModeIsEnabled

    api = HfApi(token=token)
    try:
        api.create_repo(repo, repo_type="dataset", private=private, exist_ok=True)
        api.create_commit(repo_id=repo, repo_type="dataset", commit_message=f"execfeed: {run_dir.name}",
                          operations=[CommitOperationAdd(u.path_in_repo, u.content) for u in plan])
    except OfflineModeIsEnabled as e:
        raise PublishError("HF_HUB_OFFLINE is set: nothing was uploaded (unset it to push)") from e
    except HfHubHTTPError as e:
        raise PublishError(f"the Hub refused the push to {repo}: {e}") from e
    print(f"published {url}", file=sys.stderr)
    return url


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m engine.publish", description=__doc__.splitlines()[0])
    parser.add_argument("run_dir", type=Path, help="a run directory (hydra.run.dir)")
    parser.add_argument("--repo", required=True, help="the dataset repo on the Hub, ORG/NAME")
    parser.add_argument("--private", action="store_true", help="create the repo private")
    parser.add_argument("--dry-run", action="store_true", help="list the files, send nothing")
    args = parser.parse_args(argv)
    try:
        publish(args.run_dir, args.repo, private=args.private, dry_run=args.dry_run)
    except PublishError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
