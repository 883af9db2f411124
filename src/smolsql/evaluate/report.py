"""A run's report: metrics.json, a Markdown page with breakdowns and failures, PNG plots."""

from __future__ import annotations

import json
import math
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path

from smolsql.errors import SmolsqlError
from smolsql.records import MISSED, Score, read_jsonl

HEADLINE = (
    "n", "execution_accuracy", "greedy_execution_accuracy", "oracle_execution_accuracy",
    "candidates_sampled", "chosen_not_greedy", "syntax_valid", "exact_match", "gold_failed",
    "correct_empty_result", "judge_accuracy", "judge_failed", "latency_ms_median",
    "latency_ms_mean",
)  # fmt: skip
RATES = frozenset({"execution_accuracy", "greedy_execution_accuracy", "oracle_execution_accuracy",
                   "syntax_valid", "exact_match", "judge_accuracy"})  # fmt: skip


def _pct(value: object) -> str:
    return f"{value:.1%}" if isinstance(value, float) else str(value)


def _cell(key: str, value: object) -> str:
    return _pct(value) if key in RATES else str(value)


def _table(header: Sequence[str], rows: Sequence[Sequence[object]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return lines


def write_report(run: Path, scores: Sequence[Score], summary: dict, failures: int = 10) -> Path:
    """Write metrics.json, report.md and the plots into the run folder; returns report.md."""
    (run / "metrics.json").write_text(json.dumps(summary, indent=2) + "\n")
    plots = _plots(run, summary)
    model = scores[0].prediction.model if scores else "?"
    lines = [f"# Evaluation of `{model}`", "", f"Run folder: `{run}`", ""]
    lines += _table(
        ["metric", "value"], [(k, _cell(k, summary[k])) for k in HEADLINE if k in summary]
    )
    lines += ["", "## Outcomes", ""]
    lines += _table(["outcome", "count"], list(summary["outcomes"].items()))
    if summary.get("wrong_tables"):
        wrong = sum(n for k, n in summary["outcomes"].items() if k in MISSED)
        lines += ["", "## Wrong answers: their tables against the gold SQL's", ""]
        rows = [(k, n, f"{n / wrong:.0%}") for k, n in summary["wrong_tables"].items()]
        lines += _table(["tables", "wrong answers", "share"], rows)
    if summary.get("judge_error_types"):
        lines += ["", "## Judge error types", ""]
        lines += _table(["error type", "count"], list(summary["judge_error_types"].items()))
    for key in [k for k in summary if k.startswith("by_")]:
        lines += ["", f"## By {key[3:]}", ""]
        rows = [
            (
                name,
                m["n"],
                *(_pct(m[k]) for k in ("execution_accuracy", "syntax_valid", "exact_match")),
            )
            for name, m in summary[key].items()
        ]
        lines += _table([key[3:], "n", "execution", "syntax", "exact"], rows)
    lines += [""] + [f"![{p.stem}]({p.name})" for p in plots]
    wrong = [s for s in scores if s.execution in MISSED]
    if wrong:
        lines += ["", f"## Failures (first {min(failures, len(wrong))} of {len(wrong)})", ""]
        for s in wrong[:failures]:
            ex = s.prediction.example
            lines += [
                f"**{ex.question}** ({ex.meta.get('db_id', ex.id)}: {s.execution})",
                "",
                "```sql",
                f"-- gold\n{ex.sql}\n-- predicted\n{s.prediction.sql or '(none)'}",
                "```",
            ]
            if s.detail:
                lines += [f"> {s.detail}"]
            if s.judge and not s.judge.failed:
                lines += [f"> judge: {s.judge.error_type or 'correct'}: {s.judge.explanation}"]
            lines += [""]
    path = run / "report.md"
    path.write_text("\n".join(lines) + "\n")
    return path


def _plots(run: Path, summary: dict) -> list[Path]:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:  # plots are a nicety; the numbers are in report.md either way
        return []
    made = []
    counts = Counter(summary["outcomes"])
    counts.update({f"judge:{k}": v for k, v in summary.get("judge_error_types", {}).items()})
    fig, ax = plt.subplots(figsize=(6, 3))
    ax.barh(list(counts), list(counts.values()), color="#4c72b0")
    ax.set_xlabel("examples")
    ax.set_title("Outcomes and error types")
    fig.tight_layout()
    fig.savefig(run / "error_types.png", dpi=100)
    plt.close(fig)
    made.append(run / "error_types.png")
    for key in [k for k in summary if k.startswith("by_")]:
        groups = summary[key]
        names = list(groups)
        values = [groups[n]["execution_accuracy"] or 0.0 for n in names]
        fig, ax = plt.subplots(figsize=(6, 0.3 * len(names) + 1.2))
        ax.barh(names, values, color="#55a868")
        ax.set_xlim(0, 1)
        ax.set_xlabel("execution accuracy")
        ax.set_title(f"Accuracy by {key[3:]}")
        fig.tight_layout()
        path = run / f"accuracy_{key}.png"
        fig.savefig(path, dpi=100)
        plt.close(fig)
        made.append(path)
    return made


def compare_runs(runs: Sequence[Path]) -> str:
    """The headline metrics of several runs side by side, as a Markdown table."""
    summaries = []
    for run in runs:
        path = run / "metrics.json" if run.is_dir() else run
        try:
            summaries.append(json.loads(path.read_text()))
        except (OSError, ValueError):
            raise SmolsqlError(f"no metrics in {run}: run `smolsql eval {run}` first") from None
    keys = [k for k in HEADLINE if any(k in s for s in summaries)]
    rows = [[k, *(_cell(k, s.get(k, "")) for s in summaries)] for k in keys]
    names = [Path(r).name for r in runs]
    scored = [scores_by_example(Path(r)) for r in runs]
    if len(runs) > 1 and all(scored):
        rows.append([f"same SQL as {names[0]}", *(_pct(_agreement(scored[0], o)) for o in scored)])
        answers = [("", is_right)]
        if any(s.candidate_execution for run in scored for s in run.values()):
            answers.append(("greedy: ", greedy_right))  # differs from the default answer
        for label, right in answers:
            counts = [paired(scored[0], other, right) for other in scored]
            rows.append(
                [f"{label}right here only / in {names[0]} only", *(f"{g} / {x}" for g, x in counts)]
            )
            rows.append([f"{label}sign test p", *(format_p(sign_test(g, x)) for g, x in counts)])
    return "\n".join(_table(["metric", *names], rows) + _by_database(summaries, names))


def format_p(p: float) -> str:
    """A sign test's p as the reports print it: small ones as < 0.001, not 0.00."""
    return "< 0.001" if p < 0.001 else f"{p:.3f}" if p < 0.01 else f"{p:.2f}"


def sign_test(gained: int, lost: int) -> float:
    """Two-sided sign test: how likely a split this uneven is if neither run is better.

    Over the questions exactly one of two runs answers right; a small p says the difference
    in accuracy is more than the luck of which questions happened to flip.
    """
    n = gained + lost
    if n == 0:
        return 1.0
    tail = sum(math.comb(n, i) for i in range(min(gained, lost) + 1))
    return min(1.0, 2 * tail / 2**n)


BY_DATABASE = (
    ("execution_accuracy", "Execution accuracy by database"),
    ("greedy_execution_accuracy", "Greedy execution accuracy by database"),
)


def _by_database(summaries: Sequence[dict], names: Sequence[str]) -> list[str]:
    """Accuracy per database side by side, and where each run beats the first.

    A change that lifts a few databases and lowers others is not the same as one that
    helps on each: this says which it is, for the default answer and (where every run
    has it) the greedy one.
    """
    if not all("by_db_id" in s for s in summaries):
        return []
    dbs = sorted(set().union(*(s["by_db_id"] for s in summaries)))
    n = {db: next(s["by_db_id"][db]["n"] for s in summaries if db in s["by_db_id"]) for db in dbs}
    lines: list[str] = []
    for metric, title in BY_DATABASE:
        accuracy = [{db: s["by_db_id"].get(db, {}).get(metric) for db in dbs} for s in summaries]
        if not all(any(v is not None for v in a.values()) for a in accuracy):
            continue
        rows = [
            [db, n[db], *(_pct(a[db]) if a[db] is not None else "" for a in accuracy)] for db in dbs
        ]
        lines += ["", f"{title}:", "", *_table(["database", "n", *names], rows)]
        for name, other in zip(names[1:], accuracy[1:], strict=True):
            shared = [db for db in dbs if other[db] is not None and accuracy[0][db] is not None]
            better = sum(other[db] > accuracy[0][db] for db in shared)
            worse = sum(other[db] < accuracy[0][db] for db in shared)
            lines.append(
                f"{name} against {names[0]}: better on {better} of {len(shared)} "
                f"databases, worse on {worse}"
            )
    return lines


def scores_by_example(run: Path) -> dict[tuple, Score]:
    """Each example's score, from the run's scores.jsonl ({} when there is none)."""
    path = (run if run.is_dir() else run.parent) / "scores.jsonl"
    if not path.exists():
        return {}
    return {
        (
            s.prediction.example.db_path,
            s.prediction.example.question,
            s.prediction.example.id,
        ): s
        for s in read_jsonl(path, Score)
    }


def _agreement(first: dict[tuple, Score], other: dict[tuple, Score]) -> float | str:
    """The share of the examples both runs answered where they wrote identical SQL."""
    shared = first.keys() & other.keys()
    same = sum(first[k].prediction.sql == other[k].prediction.sql for k in shared)
    return same / len(shared) if shared else "-"


def is_right(score: Score) -> bool:
    """The run's answer (the one it chose) gives the gold rows."""
    return score.execution == "correct"


def greedy_right(score: Score) -> bool:
    """The greedy answer (the first candidate; the answer itself in a one-candidate run)."""
    return (score.candidate_execution or (score.execution,))[0] == "correct"


def paired(
    first: dict[tuple, Score], other: dict[tuple, Score], right: Callable[[Score], bool] = is_right
) -> tuple[int, int]:
    """(questions `other` answers right and `first` not, the reverse), over those both ran."""
    shared = first.keys() & other.keys()
    both = [(right(first[k]), right(other[k])) for k in shared]
    return sum(b and not a for a, b in both), sum(a and not b for a, b in both)
