"""Segment attention against the block-masked attention it replaces, values and gradients."""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")

from smolsql.train import attention  # noqa: E402
from smolsql.train.attention import _by_length, _SegmentRows, layouts  # noqa: E402

HEADS, DIM = 3, 8

# (prefix length, segment lengths, trailing padding): one long query among short ones,
# single-token segments, a row with no segments, and a one-token prefix
ROWS = [
    (12, [5, 2, 7, 1, 30], 4),
    (1, [3, 3], 0),
    (9, [], 5),
    (20, [1, 1, 1], 2),
]


def _segment_ids(prefix: int, lengths: list[int], padding: int) -> list[int]:
    ids = [i + 1 for i, n in enumerate(lengths) for _ in range(n)]
    return [0] * prefix + ids + [-1] * padding


def _masked_reference(q, k, v, segment_ids: list[int]):
    """What a block mask over the whole row computes, in float64; padding rows zero."""
    ids = torch.tensor(segment_ids)
    pos = torch.arange(len(ids))
    sees = (pos[None, :] <= pos[:, None]) & ((ids[None, :] == 0) | (ids[None, :] == ids[:, None]))
    sees &= (ids >= 0)[:, None]
    scores = (q.double() @ k.double().transpose(1, 2)) * DIM**-0.5
    probs = torch.softmax(scores.masked_fill(~sees, float("-inf")), -1).nan_to_num(0.0)
    return probs @ v.double()


def _compare(row, dtype, tolerance) -> None:
    segment_ids = _segment_ids(*row)
    (layout,) = layouts(torch.tensor([segment_ids]))
    torch.manual_seed(len(segment_ids))
    q, k, v = (
        torch.randn(HEADS, len(segment_ids), DIM, dtype=dtype, requires_grad=True) for _ in range(3)
    )
    out = _SegmentRows.apply(q, k, v, layout, DIM**-0.5)
    weights = torch.randn(out.shape, dtype=torch.float64)
    (out.double() * weights).sum().backward()
    exact = [x.detach().double().requires_grad_() for x in (q, k, v)]
    reference = _masked_reference(*exact, segment_ids)
    (reference * weights).sum().backward()
    assert out.dtype == dtype
    assert (out.double() - reference).abs().max() < tolerance
    for got, want in zip((q, k, v), exact, strict=True):
        scale = want.grad.abs().max() + 1e-9
        assert ((got.grad.double() - want.grad) / scale).abs().max() < tolerance


@pytest.mark.parametrize("row", ROWS)
@pytest.mark.parametrize(("dtype", "tolerance"), [(torch.float32, 1e-4), (torch.bfloat16, 3e-2)])
def test_values_and_gradients_match_the_block_mask(row, dtype, tolerance) -> None:
    _compare(row, dtype, tolerance)


@pytest.mark.parametrize("row", ROWS)
def test_the_plain_matmul_path_matches_too(row, monkeypatch) -> None:
    """Off the CPU the prefix block runs in plain matmuls; here it is forced on the CPU."""
    monkeypatch.setattr(attention, "FLASH_DEVICES", ())
    _compare(row, torch.float32, 1e-4)


def test_grouped_query_heads_share_their_key_gradients() -> None:
    """Through the transformers entry point: 4 query heads over 2 key/value heads."""

    class Module:
        num_key_value_groups = 2

    segment_ids = _segment_ids(6, [3, 4], 1)
    (layout,) = layouts(torch.tensor([segment_ids]))
    length = len(segment_ids)
    q = torch.randn(1, 4, length, DIM, requires_grad=True)
    k, v = (torch.randn(1, 2, length, DIM, requires_grad=True) for _ in range(2))
    out, _ = attention.segment_attention(Module(), q, k, v, None, segment_layouts=[layout])
    out.sum().backward()
    exact = [x.detach().double().requires_grad_() for x in (q, k, v)]
    ref = torch.stack(
        [
            _masked_reference(
                exact[0][0, h : h + 1],
                exact[1][0, h // 2 : h // 2 + 1],
                exact[2][0, h // 2 : h // 2 + 1],
                segment_ids,
            )[0]
            for h in range(4)
        ]
    )
    ref.sum().backward()
    assert out.shape == (1, length, 4, DIM)  # (batch, length, heads, dim), like sdpa's
    assert torch.allclose(out[0].transpose(0, 1).double(), ref, atol=1e-5)
    assert torch.allclose(k.grad.double(), exact[1].grad, atol=1e-5)


def test_attention_dropout_is_refused() -> None:
    from smolsql.errors import SmolsqlError

    (layout,) = layouts(torch.tensor([_segment_ids(2, [2], 0)]))
    x = torch.randn(1, 1, 4, DIM)
    with pytest.raises(SmolsqlError, match="dropout"):
        attention.segment_attention(object(), x, x, x, None, dropout=0.1, segment_layouts=[layout])


@pytest.mark.parametrize(
    ("lengths", "groups"),
    [
        ([5, 2, 7, 1, 30], [[1, 2], [5, 7], [30]]),
        ([4, 4, 8, 9], [[4, 4, 8], [9]]),
        ([3], [[3]]),
        ([], []),
    ],
)
def test_segments_are_grouped_by_length(lengths, groups) -> None:
    spans, start = [], 0
    for n in lengths:
        spans.append((start, start + n))
        start += n
    assert [[end - begin for begin, end in part] for part in _by_length(spans)] == groups
