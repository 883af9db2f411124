"""Whether llama.cpp runs here: one real batch prompt, in a child process, remembered.

A llama.cpp library can die in the middle of a question with nothing but "Illegal
instruction": a default build's AMX kernels on an Intel AMX CPU, or a library compiled
with -march=native on a CPU with more instructions than this one. Python cannot catch
that, so before the llamacpp backend loads a model it asks a child process to load it
and answer one prompt the way smolsql does (the schema prefix as a batch, a greedy
answer, two sampled sequences). The verdict is kept in the cache per CPU, llama.cpp
build and GGUF file, so this costs one child process per machine and build, once.

`python -m smolsql.backends.check GGUF` is the child.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import shlex
import signal
import subprocess
import sys
import time
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from pathlib import Path

from smolsql.errors import SmolsqlError
from smolsql.machine import cpu_fingerprint, cpu_has_amx
from smolsql.settings import env

TIMEOUT_S = 180.0
"""Loading a 135M model and answering one short question takes seconds; a hang is a failure."""
LIBRARY_SUFFIXES = (".so", ".dylib", ".dll")
QUESTION = "How many albums has each artist released?"
REBUILD = "rebuild llama-cpp-python for this CPU: `make setup` (flags: scripts/llama-cpp-build.sh)"


@dataclass(frozen=True)
class LlamaCppCheck:
    """What the child reported: whether llama.cpp answered, and what it was built with."""

    ok: bool
    reason: str = ""
    """Empty when ok; else one line: what happened and what to do."""
    system_info: str = ""
    """llama.cpp's own list of what the library uses, e.g. "AVX512 = 1 | AMX_INT8 = 0"."""
    seconds: float = 0.0
    checked_at: str = ""
    lasting: bool = True
    """False for what may pass (a time-out, a child that could not start): not remembered."""

    @property
    def amx_kernels(self) -> bool:
        """Whether the library holds llama.cpp's AMX kernels (as its system info says)."""
        return "AMX_INT8 = 1" in self.system_info


def check_llamacpp(gguf: str | Path, fresh: bool = False) -> LlamaCppCheck:
    """The verdict for `gguf` on this machine and build: remembered, else run in a child."""
    record = _record_path(Path(gguf))
    if not fresh:
        try:
            return LlamaCppCheck(**json.loads(record.read_text()))
        except (OSError, ValueError, TypeError):
            pass  # not checked yet (or a record of another version): check now
    verdict = run_check(Path(gguf))
    if not verdict.lasting:
        return verdict
    try:
        record.parent.mkdir(parents=True, exist_ok=True)
        record.write_text(json.dumps(asdict(verdict), indent=1) + "\n")
    except OSError:
        pass  # a read-only cache: the check runs again next time, nothing else changes
    return verdict


def require_llamacpp(gguf: str | Path) -> None:
    """Raise a `SmolsqlError` saying why, where llama.cpp cannot answer on this machine."""
    verdict = check_llamacpp(gguf)
    if not verdict.ok:
        raise SmolsqlError(verdict.reason)


def run_check(gguf: Path) -> LlamaCppCheck:
    """Load `gguf` and answer one prompt in a child process; its fate is the verdict."""
    wrapper = shlex.split(env("SMOLSQL_LLAMACPP_CHECK_UNDER") or "")
    command = [*wrapper, sys.executable, "-m", "smolsql.backends.check", str(gguf)]
    start = time.perf_counter()
    when = datetime.now(timezone.utc).isoformat(timespec="seconds")
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=TIMEOUT_S)
    except subprocess.TimeoutExpired:
        reason = f"llama.cpp did not answer one prompt within {TIMEOUT_S:.0f} s"
        return LlamaCppCheck(False, reason, seconds=TIMEOUT_S, checked_at=when, lasting=False)
    except OSError as exc:
        reason = f"cannot run the llama.cpp check: {exc}"
        return LlamaCppCheck(False, reason, checked_at=when, lasting=False)
    seconds = round(time.perf_counter() - start, 2)
    if done.returncode == 0:
        try:
            info = json.loads(done.stdout.strip().splitlines()[-1])["system_info"]
        except (IndexError, KeyError, ValueError):
            info = ""
        return LlamaCppCheck(True, "", info, seconds, when)
    return LlamaCppCheck(False, _failure(done.returncode, done.stderr), "", seconds, when)


def _failure(returncode: int, stderr: str) -> str:
    """One line for a child that did not answer: killed by a signal, or an error of its own."""
    # A wrapper (an emulator) may report the signal as a shell does: 128 + its number.
    number = -returncode if returncode < 0 else returncode - 128 if returncode > 128 else 0
    if number == signal.SIGILL:
        why = "this build uses instructions this CPU does not run"
        if cpu_has_amx():
            why += " (this CPU has Intel AMX, whose kernels in a default llama.cpp build crash)"
        return f"llama.cpp died with SIGILL (illegal instruction) on one prompt: {why}; {REBUILD}"
    if number > 0:
        try:
            name = signal.Signals(number).name
        except ValueError:
            name = f"signal {number}"
        return f"llama.cpp died with {name} on one prompt; {REBUILD}"
    lines = [line for line in stderr.strip().splitlines() if line.strip()]
    return f"llama.cpp failed on one prompt: {lines[-1] if lines else f'exit {returncode}'}"


def _record_path(gguf: Path) -> Path:
    from smolsql.models import cache_dir

    return cache_dir() / "checks" / f"llamacpp-{_key(gguf)}.json"


def _key(gguf: Path) -> str:
    """Changes with the CPU, the llama.cpp libraries' content, the GGUF file and the wrapper.

    By content, not time stamps: an image's copy of the same files (new times) is the same
    build, and its containers must not each check again.
    """
    digest = hashlib.sha256(f"{cpu_fingerprint()}|{env('SMOLSQL_LLAMACPP_CHECK_UNDER')}".encode())
    for path in _library_files():
        try:
            digest.update(path.name.encode() + path.read_bytes())  # a few MB: milliseconds
        except OSError:
            digest.update(f"{path}:missing".encode())
    try:  # a cached GGUF's folder is named by what it was made from
        digest.update(f"{gguf.resolve()}:{gguf.stat().st_size}".encode())
    except OSError:
        digest.update(f"{gguf}:missing".encode())
    return digest.hexdigest()[:16]


def _library_files() -> list[Path]:
    """The llama.cpp libraries llama-cpp-python will load, found without loading them."""
    override = env("LLAMA_CPP_LIB_PATH")
    if override:
        folder = Path(override)
    else:
        spec = importlib.util.find_spec("llama_cpp")
        if spec is None or not spec.submodule_search_locations:
            return []
        folder = Path(next(iter(spec.submodule_search_locations))) / "lib"
    # libllama.so, not its versioned copies (.so.0, .so.0.5.0: the same bytes)
    return sorted(p for p in folder.glob("*") if p.suffix in LIBRARY_SUFFIXES)


def _child(gguf: str) -> int:
    """Answer one question on the bundled sample's schema as smolsql would; print the build."""
    import llama_cpp

    from smolsql.backends.base import GenerationSettings
    from smolsql.backends.llamacpp import LlamaCppBackend
    from smolsql.data.sample import SCRIPT
    from smolsql.prompt import build_prompt
    from smolsql.schema import parse_ddl, render_schema

    schema = render_schema(parse_ddl(SCRIPT.read_text())).text
    prompt = build_prompt(QUESTION, schema)
    backend = LlamaCppBackend(gguf, settings=GenerationSettings(max_new_tokens=8))
    backend.generate([prompt])
    backend.sample([prompt], 2, 4)
    backend.close()
    info = llama_cpp.llama_print_system_info().decode("utf-8", errors="replace").strip()
    print(json.dumps({"system_info": info}))
    return 0


if __name__ == "__main__":
    sys.exit(_child(sys.argv[1]))
