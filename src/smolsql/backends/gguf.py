"""Turning the model in use (base plus adapter, merged) into a GGUF file for llama.cpp.

The conversion is llama.cpp's own `convert_hf_to_gguf.py`, which ships in
llama-cpp-python's source distribution (not in its wheel). smolsql extracts the
converter once into its cache; it runs offline from then on. Each converted
model is cached by what it was made from, so a later start only opens the file.
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

from smolsql.errors import SmolsqlError
from smolsql.models import ModelSpec, cache_dir, load_model, load_tokenizer
from smolsql.settings import env

CONVERTER_TYPES = ("f32", "f16", "q8_0")
"""Written by the converter itself."""
QUANTIZED_TYPES = {"q4_k_m": 15, "q5_k_m": 17}
"""Made from the F16 file by llama.cpp's quantizer (values: llama_ftype)."""
GGUF_TYPES = (*CONVERTER_TYPES, *QUANTIZED_TYPES)
CONVERTER_FILES = ("convert_hf_to_gguf.py", "conversion/", "gguf-py/")


def converter_dir() -> Path:
    """The folder holding `convert_hf_to_gguf.py`, extracting it from the sdist on first use.

    $SMOLSQL_LLAMA_CPP_DIR names a llama.cpp checkout to use instead; $SMOLSQL_LLAMA_SDIST a
    llama-cpp-python source archive already on disk (else pip downloads it).
    """
    checkout = env("SMOLSQL_LLAMA_CPP_DIR")
    if checkout:
        folder = Path(checkout)
        if not (folder / "convert_hf_to_gguf.py").exists():
            raise SmolsqlError(f"SMOLSQL_LLAMA_CPP_DIR={folder} has no convert_hf_to_gguf.py")
        return folder
    folder = cache_dir() / "tools" / f"llama.cpp-{_llama_cpp_version()}"
    if (folder / "convert_hf_to_gguf.py").exists():
        return folder
    archive = env("SMOLSQL_LLAMA_SDIST") or _download_sdist()
    _extract_converter(Path(archive), folder)
    return folder


def _llama_cpp_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("llama-cpp-python")
    except PackageNotFoundError:
        raise SmolsqlError(
            "the llama.cpp backend needs llama-cpp-python: pip install 'smolsql[fast]'"
        ) from None


def _download_sdist() -> str:
    target = Path(tempfile.mkdtemp(prefix="smolsql-sdist-"))
    spec = f"llama-cpp-python=={_llama_cpp_version()}"
    print(f"smolsql: fetching {spec}'s source once, for its GGUF converter", file=sys.stderr)
    # Only this package as source: ":all:" would also build its build tools from source.
    command = [
        sys.executable,
        "-m",
        "pip",
        "download",
        spec,
        "--no-deps",
        "--no-binary",
        "llama-cpp-python",
        "--quiet",
        "-d",
        str(target),
    ]
    done = subprocess.run(command, capture_output=True, text=True)
    archives = sorted(target.glob("*.tar.gz"))
    if done.returncode or not archives:
        raise SmolsqlError(
            f"cannot fetch {spec}'s source for the GGUF converter; set SMOLSQL_LLAMA_SDIST to "
            f"the archive or SMOLSQL_LLAMA_CPP_DIR to a llama.cpp checkout ({_tail(done.stderr)})"
        )
    return str(archives[0])


def _extract_converter(archive: Path, folder: Path) -> None:
    tmp = Path(tempfile.mkdtemp(prefix=".tmp-", dir=_mkdir(folder.parent)))
    try:
        with tarfile.open(archive) as tar:
            members = []
            for member in tar.getmembers():
                _, _, inner = member.name.partition("/vendor/llama.cpp/")
                wanted = inner.startswith(CONVERTER_FILES) and ".." not in Path(inner).parts
                if wanted and member.isfile():
                    member.name = inner
                    members.append(member)
            if not members:
                raise SmolsqlError(f"{archive} holds no vendor/llama.cpp/convert_hf_to_gguf.py")
            # Python < 3.11.4 (Debian 12's 3.11.2) has no extraction filters; the checks above
            # already keep to plain files inside the folder.
            safe = {"filter": "data"} if hasattr(tarfile, "data_filter") else {}
            tar.extractall(tmp, members=members, **safe)
        shutil.rmtree(folder, ignore_errors=True)
        tmp.replace(folder)
    except (OSError, tarfile.TarError) as exc:
        raise SmolsqlError(f"cannot read the converter from {archive}: {exc}") from None
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def gguf_file(spec: ModelSpec, outtype: str = "f16") -> Path:
    """The cached GGUF of `spec` in `outtype`, converting it the first time."""
    if outtype not in GGUF_TYPES:
        raise SmolsqlError(f"unknown GGUF type {outtype!r}; choose from {', '.join(GGUF_TYPES)}")
    folder = cache_dir() / "gguf" / _model_key(spec)
    target = folder / f"model-{outtype}.gguf"
    if target.exists():
        return target
    from filelock import FileLock

    source = gguf_file(spec, "f16") if outtype in QUANTIZED_TYPES else None  # before the lock
    with FileLock(str(_mkdir(folder) / ".lock")):
        if target.exists():
            return target
        if source is not None:
            _quantize(source, target, QUANTIZED_TYPES[outtype])
        else:
            _convert(spec, target, outtype)
    return target


def save_merged(spec: ModelSpec, folder: str | Path) -> Path:
    """The model with its adapter merged in, as a plain transformers folder (for vLLM, TGI)."""
    model = load_model(spec)
    model.save_pretrained(folder)
    load_tokenizer(spec).save_pretrained(folder)
    return Path(folder)


def _model_key(spec: ModelSpec) -> str:
    """Changes whenever the weights could: a new adapter file gives a new GGUF."""
    digest = hashlib.sha256(spec.base.encode())
    if spec.adapter:
        for path in sorted(Path(spec.adapter).glob("adapter_*")):
            digest.update(path.name.encode() + path.read_bytes())
    stem = Path(spec.adapter or spec.base).name.replace("/", "--")
    return f"{stem}-{digest.hexdigest()[:12]}"


def _convert(spec: ModelSpec, target: Path, outtype: str) -> None:
    script = converter_dir() / "convert_hf_to_gguf.py"
    print(f"smolsql: converting {spec.name} to GGUF ({outtype}) once", file=sys.stderr)
    with tempfile.TemporaryDirectory(prefix="smolsql-merged-") as merged:
        save_merged(spec, merged)
        partial = target.with_suffix(".part")
        command = [
            sys.executable,
            str(script),
            merged,
            "--outfile",
            str(partial),
            "--outtype",
            outtype,
        ]
        done = subprocess.run(command, capture_output=True, text=True)
        if done.returncode or not partial.exists():
            partial.unlink(missing_ok=True)
            raise SmolsqlError(f"GGUF conversion of {spec.name} failed: {_tail(done.stderr)}")
        partial.replace(target)


def _quantize(source: Path, target: Path, ftype: int) -> None:
    import llama_cpp

    params = llama_cpp.llama_model_quantize_default_params()
    params.ftype = ftype
    partial = target.with_suffix(".part")
    if llama_cpp.llama_model_quantize(str(source).encode(), str(partial).encode(), params):
        partial.unlink(missing_ok=True)
        raise SmolsqlError(f"llama.cpp could not quantize {source.name}")
    partial.replace(target)


def _mkdir(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _tail(text: str) -> str:
    lines = [line for line in (text or "").strip().splitlines() if line.strip()]
    return lines[-1] if lines else "no message"
