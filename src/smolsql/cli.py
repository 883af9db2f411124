"""The `smolsql` command: thin wrappers over library functions, one clear line per error."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from smolsql import __version__
from smolsql.backends import BACKENDS, GenerationSettings, load_backend
from smolsql.backends.gguf import GGUF_TYPES
from smolsql.choose import DEFAULT_CANDIDATES, MAX_CANDIDATES, ChoiceSettings
from smolsql.data.sample import NAME as SAMPLE_NAME
from smolsql.data.sample import open_target
from smolsql.db import DEFAULT_LIMITS, Limits
from smolsql.errors import SmolsqlError
from smolsql.kept import KEPT_SETTINGS
from smolsql.link import (
    AUTO_MIN_TABLES,
    DEFAULT_LINKING,
    LINKING,
    link_settings,
    with_linked_schemas,
)
from smolsql.schema import DEFAULT_SCHEMA_TOKENS


def cmd_ask(args: argparse.Namespace) -> int:
    from smolsql.ask import ask, read_schema_file, validate_question
    from smolsql.choose import describe
    from smolsql.solved import read_solved_file
    from smolsql.sql.text import dialect_name, pretty_sql
    from smolsql.terminal import format_table

    validate_question(args.question)
    if args.dialect:
        dialect_name(args.dialect)  # an unknown one is said before the model loads
    if bool(args.db) == bool(args.schema):
        raise SmolsqlError("give exactly one of --db (a database) or --schema (a DDL file)")
    if args.run and not args.db:
        raise SmolsqlError("--run needs --db: there is no database behind a schema file")
    settings, choice = _generation(args), _choice(args)
    solved = read_solved_file(args.solved) if args.solved else ()
    if args.db and not args.solved:
        solved = _kept_for_prompt(args)
    db = open_target(args.db) if args.db else None
    try:
        schema = db.schema(args.samples) if db else read_schema_file(args.schema, args.read_dialect)
        backend = load_backend(args.model, args.backend, settings)
        answer = ask(
            backend,
            args.question,
            schema,
            db,
            args.run,
            _limits(args),
            args.max_schema_tokens,
            choice,
            args.value_hints,
            solved,
            link_settings(args.link_schema),
        )
    finally:
        if db is not None:
            db.close()
    for note in answer.notes:
        print(f"note: {note}", file=sys.stderr)
    sql = answer.require_sql()
    if choice.candidates > 1:
        print(f"note: {describe(answer.prediction)}", file=sys.stderr)
    if args.dialect and args.dialect != schema.dialect:
        sql = pretty_sql(sql, schema.dialect, to=args.dialect)
    print(sql + ";")
    for problem in answer.problems:
        print(f"warning: {problem}", file=sys.stderr)
    if answer.run_error:
        raise SmolsqlError(answer.run_error)
    if answer.result is not None:
        print()
        print(format_table(answer.result))
    return 0


def _kept_for_prompt(args: argparse.Namespace) -> tuple:
    """The answers kept for --db, when they go in the prompt (--kept); one note when kept
    answers exist and why they do or do not go in."""
    from smolsql.kept import KeptAnswers, use_kept

    kept = KeptAnswers.of(args.db).solved()
    if not kept:
        return ()
    use, why = use_kept(args.kept, args.model)
    print(f"note: {why} ({len(kept)} for this database)", file=sys.stderr)
    return kept if use else ()


def _generation(args: argparse.Namespace) -> GenerationSettings:
    """The generation settings the flags of `add_generation_arguments` give."""
    return GenerationSettings(
        max_new_tokens=args.max_new_tokens,
        batch_size=getattr(args, "batch_size", 8),
        temperature=args.temperature,
        top_p=args.top_p,
        seed=args.seed,
    )


def _limits(args: argparse.Namespace) -> Limits:
    return Limits(args.max_rows, args.timeout)


def _choice(args: argparse.Namespace) -> ChoiceSettings:
    return ChoiceSettings(
        args.candidates,
        budget_s=args.candidate_budget,
        likelihood_weight=args.likelihood_weight,
    )


def cmd_run(args: argparse.Namespace) -> int:
    from smolsql.sql.run import run_sql
    from smolsql.terminal import format_table

    with open_target(args.db) as db:
        result = run_sql(db, args.sql, _limits(args))
    print(format_table(result))
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    import uvicorn

    from smolsql.kept import use_kept
    from smolsql.serve import check_port
    from smolsql.serve.api import create_app
    from smolsql.serve.service import Service, parse_database_args
    from smolsql.solved import read_solved_file

    check_port(args.host, args.port)
    databases = parse_database_args(args.db or [SAMPLE_NAME])
    solved_files = _named_files(args.solved or [])
    solved = {name: read_solved_file(path) for name, path in solved_files.items()}
    settings, choice = _generation(args), _choice(args)
    backend = load_backend(args.model, args.backend, settings)
    use, why = use_kept(args.kept, args.model)
    print(f"smolsql: {why}", file=sys.stderr)
    service = Service(
        backend,
        databases,
        _limits(args),
        choice,
        args.value_hints,
        solved,
        use,
        link_settings(args.link_schema),
    )
    app = create_app(service)
    print(f"smolsql: serving {backend.name} on http://{args.host}:{args.port} (docs at /docs)")
    uvicorn.run(app, host=args.host, port=args.port, log_level="warning")
    return 0


def _named_files(values: Sequence[str]) -> dict[str, Path]:
    """`NAME=FILE` pairs, as --solved gives them: one file a database, as with --db's names."""
    pairs: dict[str, Path] = {}
    for value in values:
        name, sep, path = value.partition("=")
        if not (sep and name and path):
            raise SmolsqlError(f"--solved {value!r}: write DATABASE_NAME=FILE")
        if name in pairs:
            raise SmolsqlError(f"two --solved files for database {name!r}; give one")
        pairs[name] = Path(path)
    return pairs


def cmd_app(args: argparse.Namespace) -> int:
    import os

    import smolsql.serve

    smolsql.serve.check_port(args.host, args.port)
    script = Path(smolsql.serve.__file__).with_name("app.py")  # importing it would run it
    env = {
        **os.environ,
        "SMOLSQL_APP_BACKEND": args.backend,
        "SMOLSQL_APP_CANDIDATES": str(ChoiceSettings(args.candidates).candidates),
        "SMOLSQL_APP_KEPT": args.kept,
        "SMOLSQL_APP_LINK": args.link_schema,
    }
    if args.model:
        env["SMOLSQL_APP_MODEL"] = args.model
    flags = {
        "server.address": args.host,
        "server.port": args.port,
        "server.headless": "true",
        "browser.gatherUsageStats": "false",
        "client.toolbarMode": "minimal",
    }
    command = [sys.executable, "-m", "streamlit", "run", str(script)]
    command += [f"--{name}={value}" for name, value in flags.items()]
    # Become the Streamlit server (no child process left behind when this one is stopped).
    os.execve(sys.executable, command, env)
    return 0  # not reached


def cmd_export(args: argparse.Namespace) -> int:
    import shutil

    from smolsql.backends.gguf import gguf_file, save_merged
    from smolsql.models import resolve_model

    spec = resolve_model(args.model)
    out = Path(args.out)
    if out.exists() and (out.is_file() or any(out.iterdir())):
        raise SmolsqlError(f"{out} exists and is not empty; choose a new path")
    if args.gguf:
        shutil.copyfile(gguf_file(spec, args.gguf), out)
    else:
        save_merged(spec, out)
    print(f"wrote {spec.name} to {out}")
    return 0


def cmd_train(args: argparse.Namespace) -> int:
    from smolsql.train.config import TrainConfig, resolve
    from smolsql.train.sft import train

    overrides = {k: v for k, v in vars(args).items() if k in TrainConfig.__dataclass_fields__}
    config = resolve(args.config, overrides)
    final = train(config)
    print(f"trained model in {final}")
    return 0


def cmd_extract(args: argparse.Namespace) -> int:
    from smolsql.models import resolve_model
    from smolsql.train.extract import extract_lora

    report = extract_lora(
        resolve_model(args.base), args.tuned, args.out, args.rank, norms=args.norms
    )
    print(
        f"wrote a rank-{report.rank} adapter of {report.layers} layers to {args.out}: "
        f"{report.kept_energy:.1%} of the change kept, worst layer error "
        f"{report.worst_layer_error:.3f}; {len(report.whole)} norms carried whole, "
        f"{len(report.not_kept)} other changed tensors left out (extraction.json)"
    )
    return 0


def cmd_schema(args: argparse.Namespace) -> int:
    from smolsql.schema import render_schema

    with open_target(args.db) as db:
        print(render_schema(db.schema(args.samples)).text)
    return 0


def cmd_predict(args: argparse.Namespace) -> int:
    from smolsql.predict import predict_to_file

    settings, choice = _generation(args), _choice(args)
    examples = _examples(args)
    if args.solved_examples:
        from smolsql.solved import with_solved

        examples = with_solved(examples, args.solved_examples)
    link = link_settings(args.link_schema)
    if link:
        examples = with_linked_schemas(examples, link, samples=args.samples)
    backend = load_backend(args.model, args.backend, settings)
    out = Path(args.out)
    predictions = predict_to_file(
        backend, examples, out / "predictions.jsonl", args.batch_size, choice
    )
    print(f"{len(predictions)} predictions in {out / 'predictions.jsonl'}")
    return 0


def cmd_data(args: argparse.Namespace) -> int:
    from smolsql.data.loaders import with_databases_in
    from smolsql.records import write_jsonl

    examples = _examples(args)
    if args.databases:
        examples = with_databases_in(examples, Path(args.databases))
    count = write_jsonl(args.out, examples)
    print(f"wrote {count} examples to {args.out}")
    return 0


def _examples(args: argparse.Namespace) -> list:
    """--data's examples, on --only-databases' databases when given, at most --limit."""
    from smolsql.data.loaders import load_examples, read_database_names, select_databases

    only = read_database_names(args.only_databases) if args.only_databases else None
    limit = None if only else args.limit  # the first N on those databases, not of the file
    examples = load_examples(args.data, limit, args.samples, args.value_hints)
    examples = select_databases(examples, only)[: args.limit]
    if not examples:
        where = " on the databases --only-databases names" if only else ""
        raise SmolsqlError(f"{args.data} holds no examples{where}")
    return examples


def cmd_eval(args: argparse.Namespace) -> int:
    from smolsql.evaluate.stage import evaluate_run

    judge = None
    if args.judge:
        from smolsql.evaluate.judge import JudgeConfig
        from smolsql.models import cache_dir

        judge = JudgeConfig.from_env(
            base_url=args.judge_url,
            model=args.judge_model,
            concurrency=args.judge_concurrency,
            cache_dir=str(cache_dir() / "judge"),
        )
    run = Path(args.run)
    summary, report = evaluate_run(run, args.timeout, args.allow_writes, args.strict_columns, judge)
    for key in (
        "n",
        "execution_accuracy",
        "greedy_execution_accuracy",
        "oracle_execution_accuracy",
        "syntax_valid",
        "exact_match",
        "gold_failed",
        "correct_empty_result",
        "judge_accuracy",
        "judge_failed",
    ):
        if key in summary:
            print(f"{key}: {summary[key]}")
    folder = report.parent
    print(f"wrote {folder / 'metrics.json'}, {folder / 'scores.jsonl'} and {report}")
    return 0


def cmd_compare(args: argparse.Namespace) -> int:
    from smolsql.evaluate.report import compare_runs

    print(compare_runs([Path(r) for r in args.runs]))
    return 0


def cmd_solved(args: argparse.Namespace) -> int:
    import json

    from smolsql.kept import KeptAnswers
    from smolsql.records import to_dict
    from smolsql.solved import read_solved_file

    if args.action == "import":
        pairs = read_solved_file(args.file)  # read first: a bad file changes nothing
    db = open_target(args.db)
    try:
        store = KeptAnswers.of(args.db, args.store, db.dialect)
        if args.action == "add":
            before = {k.id for k in store.list()}
            limits = Limits(timeout_s=args.timeout)
            kept = store.add_if_it_runs(db, args.question, args.sql, "cli", limits)
            print(f"{'already kept' if kept.id in before else 'kept'} {kept.id} in {store.path}")
        elif args.action == "import":
            before = {k.id for k in store.list()}
            kept = store.add_many(pairs, "import")
            new = len({k.id for k in kept} - before)
            print(f"kept {new} new of {len(pairs)} in {store.path}")
        elif args.action == "remove":
            if not store.remove(args.id):
                raise SmolsqlError(f"no kept answer {args.id!r} in {store.path}")
            print(f"removed {args.id}")
        elif args.action == "export":
            for k in store.list():
                print(json.dumps(to_dict(k), ensure_ascii=False))
        else:
            kept = store.list()
            for k in kept:
                print(f"{k.id}  {k.at}  {k.by:<6}  {k.question}\n    {k.sql}")
            if not kept:  # said on stderr: stdout stays what was kept
                print(f"no kept answers in {store.path} (smolsql solved add)", file=sys.stderr)
    finally:
        db.close()
    return 0


def cmd_doctor(args: argparse.Namespace) -> int:
    import json
    from dataclasses import asdict

    from smolsql.doctor import diagnose, report

    findings = diagnose(args.model)
    print(json.dumps([asdict(f) for f in findings], indent=2) if args.json else report(findings))
    return 0 if all(f.ok for f in findings) else 1


def at_least(low: int, high: int | None = None) -> Callable[[str], int]:
    """An argparse type: a whole number from `low` (to `high`): a count, a size, a port."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
        if value < low or (high is not None and value > high):
            within = f"at least {low}" if high is None else f"from {low} to {high}"
            raise argparse.ArgumentTypeError(f"must be {within}, not {value}")
        return value

    return parse


PORT = at_least(1, 65535)


def add_generation_arguments(p: argparse.ArgumentParser) -> None:
    """Flags for `GenerationSettings` and `ChoiceSettings` (ask, predict, serve)."""
    defaults = GenerationSettings()
    p.add_argument(
        "--candidates",
        type=int,
        default=DEFAULT_CANDIDATES,
        metavar="K",
        help=f"answers considered (1-{MAX_CANDIDATES}): the greedy one, and when it does not "
        f"run and return rows, K-1 samples, each run read-only; 1: greedy only",
    )
    p.add_argument(
        "--temperature",
        type=float,
        default=defaults.temperature,
        help="sampling temperature of candidates",
    )
    p.add_argument(
        "--top-p", type=float, default=defaults.top_p, help="nucleus sampling of candidates"
    )
    p.add_argument(
        "--seed",
        type=int,
        default=defaults.seed,
        help="candidates are a function of seed and question",
    )
    p.add_argument(
        "--candidate-budget",
        type=float,
        default=ChoiceSettings().budget_s,
        help="seconds for checking and running one question's candidates",
    )
    p.add_argument(
        "--likelihood-weight",
        type=float,
        default=ChoiceSettings().likelihood_weight,
        metavar="W",
        help="where candidates that ran disagree, add W times the model's mean log-probability "
        "per token of each to its votes (0: votes alone; llama.cpp and transformers)",
    )
    p.add_argument(
        "--max-new-tokens",
        type=int,
        default=defaults.max_new_tokens,
        help="longest SQL generated, in tokens",
    )
    p.add_argument(
        "--value-hints",
        action="store_true",
        help="put database values the question names in the prompt (for a model "
        "trained with them: smolsql train --value-hints true)",
    )


DB_HELP = f"SQLite/DuckDB file, SQLAlchemy URL, or '{SAMPLE_NAME}'"
SAMPLES_HELP = "sample values per column in the schema the model sees"
ONLY_HELP = "a file of database names, one a line: only their questions (e.g. the held-out set)"
SOLVED_HELP = (
    "a JSON or JSON Lines file of {question, sql} pairs answered before on this database: "
    "the most similar go in the prompt (for a model trained with them, as the default model "
    "is; a model trained without copies them, which helps on questions asked before and "
    "hurts on new ones)"
)


def add_model_arguments(p: argparse.ArgumentParser, backend: bool = True) -> None:
    """--model (and --backend), the same for every command that loads a model."""
    p.add_argument("--model", help="hub id, model folder or LoRA adapter folder")
    if backend:
        p.add_argument(
            "--backend", default="auto", help=f"auto, {', '.join(BACKENDS)}, or module:factory"
        )


def add_kept_argument(p: argparse.ArgumentParser) -> None:
    """--kept: whether the answers people kept (`smolsql solved`) go in the prompt."""
    p.add_argument(
        "--kept",
        choices=KEPT_SETTINGS,
        default="auto",
        help="the database's kept answers in the prompt: auto (when the model was trained to "
        "read them), on, off",
    )


def add_link_argument(p: argparse.ArgumentParser) -> None:
    """--link-schema: whether prompts show only the tables the question needs."""
    p.add_argument(
        "--link-schema",
        choices=LINKING,
        default=DEFAULT_LINKING,
        help="on: the prompt shows the tables the question names and those joining them, "
        "and candidates are also written from the whole schema (smolsql.link); off: the "
        f"whole schema; auto: on for schemas of {AUTO_MIN_TABLES} tables or more",
    )


def add_limit_arguments(p: argparse.ArgumentParser, rows_help: str) -> None:
    """--max-rows and --timeout, the limits every query that runs is held to."""
    p.add_argument("--max-rows", type=int, default=DEFAULT_LIMITS.max_rows, help=rows_help)
    p.add_argument(
        "--timeout", type=float, default=DEFAULT_LIMITS.timeout_s, help="query time limit, s"
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="smolsql", description="Ask a database questions in plain English; get SQL."
    )
    parser.add_argument("--version", action="version", version=f"smolsql {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("ask", help="turn a question into SQL (and optionally run it)")
    p.add_argument("question", help="the question, in plain English")
    p.add_argument("--db", help=DB_HELP)
    p.add_argument("--schema", type=Path, help="a file of CREATE TABLE statements, no database")
    p.add_argument("--read-dialect", default="sqlite", help="dialect of the --schema file")
    p.add_argument("--dialect", help="print the SQL in this sqlglot dialect (e.g. postgres)")
    p.add_argument("--run", action="store_true", help="run the SQL read-only, print the rows")
    add_model_arguments(p)
    p.add_argument("--samples", type=at_least(0), default=0, help=SAMPLES_HELP)
    p.add_argument(
        "--max-schema-tokens", type=int, default=DEFAULT_SCHEMA_TOKENS, help="schema token budget"
    )
    p.add_argument("--solved", type=Path, help=SOLVED_HELP)
    add_kept_argument(p)
    add_link_argument(p)
    add_generation_arguments(p)
    add_limit_arguments(p, "rows shown with --run")
    p.set_defaults(func=cmd_ask)

    p = sub.add_parser("predict", help="predict SQL for a dataset into RUN/predictions.jsonl")
    p.add_argument("--data", required=True, help="Spider file/folder, gretel[:split], or a file")
    p.add_argument("--out", required=True, help="the run folder, e.g. runs/base-dev")
    add_model_arguments(p)
    p.add_argument("--limit", type=at_least(1), help="only the first N examples")
    p.add_argument("--only-databases", metavar="FILE", help=ONLY_HELP)
    p.add_argument("--batch-size", type=at_least(1), default=16, help="prompts generated together")
    p.add_argument("--samples", type=at_least(0), default=0, help=SAMPLES_HELP)
    p.add_argument(
        "--solved-examples",
        type=int,
        default=0,
        metavar="N",
        help="put up to N other questions on the same database, with their SQL, in each "
        "prompt (most similar first; never one with the question's own SQL)",
    )
    add_link_argument(p)
    add_generation_arguments(p)
    p.set_defaults(func=cmd_predict)

    p = sub.add_parser("data", help="write a dataset as Example records (JSONL), prompts ready")
    p.add_argument("--data", required=True, help="Spider file/folder, gretel[:split], or a file")
    p.add_argument("--out", required=True, help="the JSONL file to write")
    p.add_argument("--limit", type=at_least(1), help="only the first N examples")
    p.add_argument("--only-databases", metavar="FILE", help=ONLY_HELP)
    p.add_argument("--samples", type=at_least(0), default=0, help=SAMPLES_HELP)
    p.add_argument("--value-hints", action="store_true", help="database values the question names")
    p.add_argument("--databases", help="copy the examples' database files into this folder")
    p.set_defaults(func=cmd_data)

    p = sub.add_parser("eval", help="score RUN/predictions.jsonl: metrics.json, scores.jsonl")
    p.add_argument("run", help="a run folder (or its predictions.jsonl)")
    p.add_argument("--timeout", type=float, default=10.0, help="time limit per query, s")
    p.add_argument(
        "--allow-writes",
        action="store_true",
        help="evaluate DML on throwaway copies of SQLite files (never on the files themselves)",
    )
    p.add_argument(
        "--strict-columns",
        action="store_true",
        help="columns in another order than the gold's count as wrong (default: a match)",
    )
    p.add_argument("--judge", action="store_true", help="also ask an LLM judge")
    p.add_argument("--judge-url", help="OpenAI-compatible base URL (or SMOLSQL_JUDGE_BASE_URL)")
    p.add_argument("--judge-model", help="judge model or Azure deployment")
    p.add_argument(
        "--judge-concurrency", type=at_least(1), default=4, help="judge requests at once"
    )
    p.set_defaults(func=cmd_eval)

    p = sub.add_parser("run", help="run SQL read-only through the guard, print the rows")
    p.add_argument("sql", help="one read-only statement")
    p.add_argument("--db", required=True, help=DB_HELP)
    add_limit_arguments(p, "rows shown")
    p.set_defaults(func=cmd_run)

    p = sub.add_parser("serve", help="the HTTP API (FastAPI; docs at /docs)")
    p.add_argument("--db", action="append", help="NAME=FILE_OR_URL, repeatable (default: sample)")
    p.add_argument(
        "--solved", action="append", metavar="NAME=FILE", help=f"per database: {SOLVED_HELP}"
    )
    add_kept_argument(p)
    add_link_argument(p)
    p.add_argument("--host", default="127.0.0.1", help="address to listen on")
    p.add_argument("--port", type=PORT, default=8000)
    add_model_arguments(p)
    add_limit_arguments(p, "default row limit")
    add_generation_arguments(p)
    p.set_defaults(func=cmd_serve)

    p = sub.add_parser("app", help="the web app (Streamlit)")
    p.add_argument("--host", default="127.0.0.1", help="address to listen on")
    p.add_argument("--port", type=PORT, default=8501)
    add_model_arguments(p)
    p.add_argument("--candidates", type=int, default=DEFAULT_CANDIDATES, help="as for ask")
    add_kept_argument(p)
    add_link_argument(p)
    p.set_defaults(func=cmd_app)

    p = sub.add_parser("export", help="write the model in use, adapter merged: a folder or GGUF")
    p.add_argument("out", help="a new folder (transformers format), or a file with --gguf")
    add_model_arguments(p, backend=False)
    p.add_argument(
        "--gguf",
        metavar="TYPE",
        choices=GGUF_TYPES,
        help=f"write one GGUF file: {', '.join(GGUF_TYPES)}",
    )
    p.set_defaults(func=cmd_export)

    from smolsql.train.config import add_arguments

    p = sub.add_parser("train", help="fine-tune a model (settings: --config YAML, then flags)")
    p.add_argument("--config", help="a YAML file of settings, e.g. configs/spider-lora.yaml")
    add_arguments(p)
    p.set_defaults(func=cmd_train)

    p = sub.add_parser("extract", help="a full fine-tune as a LoRA adapter (SVD of its change)")
    p.add_argument("tuned", help="the fully fine-tuned model folder")
    p.add_argument("--out", required=True, help="a new folder for the adapter")
    p.add_argument("--rank", type=int, default=64, help="LoRA rank (64 in bf16: ~39 MB here)")
    p.add_argument(
        "--base",
        help="the model it was tuned from (default: the offline base)",
        default="smollm2-135m-instruct-gguf",
    )
    p.add_argument(
        "--no-norms",
        dest="norms",
        action="store_false",
        help="leave the changed norms out instead of carrying them whole",
    )
    p.set_defaults(func=cmd_extract)

    p = sub.add_parser("compare", help="print runs' metrics side by side (base vs fine-tuned)")
    p.add_argument("runs", nargs="+", help="run folders")
    p.set_defaults(func=cmd_compare)

    p = sub.add_parser("solved", help="the answers kept for a database: list, add, remove, ...")
    actions = p.add_subparsers(dest="action", required=True)
    for name, what in (
        ("list", "the kept answers, oldest first"),
        ("add", "keep a question and its checked SQL (it must run)"),
        ("remove", "forget one kept answer by its id"),
        ("import", "keep every {question, sql} of a JSON or JSON Lines file"),
        ("export", "print the kept answers as JSON Lines (for --solved or import)"),
    ):
        q = actions.add_parser(name, help=what)
        q.add_argument("--db", required=True, help=DB_HELP)
        q.add_argument("--store", type=Path, help="a file of kept answers (default: the cache's)")
        if name == "add":
            q.add_argument("question")
            q.add_argument("sql")
            q.add_argument("--timeout", type=float, default=DEFAULT_LIMITS.timeout_s)
        elif name == "remove":
            q.add_argument("id")
        elif name == "import":
            q.add_argument("file", type=Path)
        q.set_defaults(func=cmd_solved)

    p = sub.add_parser(
        "doctor", help="check this machine: CPU, llama.cpp (one real prompt), torch, cache"
    )
    add_model_arguments(p, backend=False)
    p.add_argument("--json", action="store_true", help="print the findings as JSON")
    p.set_defaults(func=cmd_doctor)

    p = sub.add_parser("schema", help="print a database's schema as the model sees it")
    p.add_argument("--db", required=True, help=DB_HELP)
    p.add_argument("--samples", type=at_least(0), default=0, help=SAMPLES_HELP)
    p.set_defaults(func=cmd_schema)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except SmolsqlError as exc:
        print(f"smolsql: error: {exc}", file=sys.stderr)
        return 2
    except ModuleNotFoundError as exc:  # a slimmer install, e.g. the container image
        if not exc.name or exc.name.split(".")[0] in ("smolsql", "__main__"):
            raise
        package = exc.name.split(".")[0]
        print(
            f"smolsql: error: '{args.command}' needs the Python package '{package}', which is "
            f"not installed here (pip install {package.replace('_', '-')})",
            file=sys.stderr,
        )
        return 2
    except KeyboardInterrupt:
        print("smolsql: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # `smolsql compare ... | head`: the reader has stopped reading
        # stdout's: the one HTTP client (endpoint.py) catches a socket's as an OSError
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # nothing left to flush
        return 141  # as a shell reports a command that SIGPIPE ended


if __name__ == "__main__":
    sys.exit(main())
