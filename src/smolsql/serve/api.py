"""The HTTP API (`smolsql serve`): question in, SQL out; and SQL run read-only, rows out.

POST /v1/sql     {question, database | schema, dialect, candidates, solved}
                 -> {sql, valid, choice, alternatives, ...}
POST /v1/query   {database, question | sql, max_rows, candidates, solved} -> the same, plus rows
GET  /v1/databases, GET /healthz; OpenAPI docs at /docs.
GET/POST /v1/databases/{name}/solved, DELETE .../solved/{id}: the answers people kept
Every route calls `Service`, which calls the same `ask`/`run_sql` as the CLI.
"""

from __future__ import annotations

import time
from typing import Any

from fastapi import FastAPI, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, Field

from smolsql import __version__
from smolsql.ask import MAX_QUESTION_CHARS, Answer
from smolsql.choose import MAX_CANDIDATES, alternatives, describe
from smolsql.db import Result
from smolsql.errors import SmolsqlError
from smolsql.records import Solved, to_dict
from smolsql.serve.service import MAX_ROWS_LIMIT, PERSON, Service, UnknownDatabase
from smolsql.solved import solved_from_items
from smolsql.sql.text import pretty_sql

MAX_BODY_BYTES = 256 * 1024
"""A schema of a few hundred tables fits; a megabyte question does not."""


CANDIDATES_HELP = (
    "answers considered: the greedy one, and when it does not run and return rows, samples "
    "run read-only until the best is found (1: greedy only; default: the server's)"
)


MAX_SOLVED_IN_REQUEST = 200


class SolvedPair(BaseModel):
    question: str = Field(min_length=1, max_length=MAX_QUESTION_CHARS)
    sql: str = Field(min_length=1, max_length=20_000)


SOLVED_FIELD = Field(
    None,
    max_length=MAX_SOLVED_IN_REQUEST,
    description="questions answered before on this database, with their SQL: the most "
    "similar go in the prompt (default: the server's for the database, if any); for a model "
    "trained with them, as the default model is: a model trained without copies them, which "
    "helps on questions asked before and hurts on new ones",
)


class SQLRequest(BaseModel):
    question: str = Field(max_length=MAX_QUESTION_CHARS, description="in plain English")
    database: str | None = Field(None, description="a database name from GET /v1/databases")
    schema_: str | None = Field(
        None, alias="schema", description="CREATE TABLE statements, in place of a database"
    )
    dialect: str | None = Field(None, description="write the SQL in this dialect (sqlglot name)")
    candidates: int | None = Field(None, ge=1, le=MAX_CANDIDATES, description=CANDIDATES_HELP)
    solved: list[SolvedPair] | None = SOLVED_FIELD


class QueryRequest(BaseModel):
    database: str
    question: str | None = Field(None, max_length=MAX_QUESTION_CHARS)
    candidates: int | None = Field(None, ge=1, le=MAX_CANDIDATES, description=CANDIDATES_HELP)
    sql: str | None = Field(
        None, max_length=100_000, description="SQL to run, in place of a question"
    )
    max_rows: int | None = Field(None, ge=1, le=MAX_ROWS_LIMIT)
    solved: list[SolvedPair] | None = SOLVED_FIELD


class KeepRequest(BaseModel):
    question: str = Field(min_length=1, max_length=MAX_QUESTION_CHARS)
    sql: str = Field(min_length=1, max_length=20_000, description="checked: it must run")


class KeptAnswer(BaseModel):
    id: str
    question: str
    sql: str
    at: str = Field(description="when it was kept, ISO 8601 UTC")
    by: str = Field(description="app, api, cli or import")


class Choice(BaseModel):
    method: str = Field(description="greedy, candidates, or given (the request's own SQL)")
    chosen: int = Field(description="which candidate is the answer, from 1 (1: the greedy one)")
    tried: int = Field(description="candidates made (1 when the greedy answer was taken)")
    ran: int = Field(description="candidates that ran on the database")
    summary: str = Field(description="the same in words, e.g. 'tried 8, 3 ran, chose #2'")


class Alternative(BaseModel):
    sql: str
    votes: int = Field(description="written candidates whose result is this same answer")
    rows: int = Field(description="rows it returned, up to the candidates' row limit")


class SQLResponse(BaseModel):
    sql: str
    valid: bool = Field(description="it parses and names only tables and columns that exist")
    problems: list[str]
    notes: list[str]
    latency_ms: float
    model: str
    choice: Choice
    alternatives: list[Alternative] = Field(
        description="when the candidates disagree (no answer has most of the votes, or the "
        "top two tie): each distinct answer that ran, the chosen one first; else empty"
    )


class QueryResponse(SQLResponse):
    columns: list[str]
    rows: list[list[Any]]
    truncated: bool
    query_ms: float


def create_app(service: Service) -> FastAPI:
    app = FastAPI(
        title="smolsql",
        version=__version__,
        description="Plain-English questions to SQL, run read-only.",
    )

    @app.middleware("http")
    async def limit_body(request: Request, call_next):
        length = request.headers.get("content-length")
        if request.method == "POST" and length is None:
            return _error(411, "send the body with a Content-Length")  # no unbounded streams
        if length and (not length.isdigit() or int(length) > MAX_BODY_BYTES):
            return _error(413, f"request body over {MAX_BODY_BYTES // 1024} KB")
        return await call_next(request)

    @app.exception_handler(SmolsqlError)
    async def smolsql_error(request: Request, exc: SmolsqlError) -> JSONResponse:
        return _error(404 if isinstance(exc, UnknownDatabase) else 400, str(exc))

    @app.exception_handler(RequestValidationError)
    async def bad_request(request: Request, exc: RequestValidationError) -> JSONResponse:
        first = exc.errors()[0] if exc.errors() else {}
        where = ".".join(str(p) for p in first.get("loc", ()) if p != "body")
        return _error(422, f"{where or 'body'}: {first.get('msg', 'invalid request')}")

    @app.get("/healthz")
    def healthz() -> dict:
        return {"status": "ok", "model": service.backend.name, "version": __version__}

    @app.get("/v1/databases")
    def databases() -> list[dict]:
        out = []
        for name in sorted(service.databases):
            with service.open(name) as db:
                out.append({"name": name, "dialect": db.dialect, "tables": len(db.schema().tables)})
        return out

    @app.get("/v1/databases/{name}/solved", response_model=list[KeptAnswer])
    def kept(name: str) -> list[KeptAnswer]:
        return [KeptAnswer(**to_dict(k)) for k in service.kept(name).list()]

    @app.post("/v1/databases/{name}/solved", response_model=KeptAnswer, status_code=201)
    async def keep(name: str, body: KeepRequest) -> KeptAnswer:
        kept = await run_in_threadpool(service.keep, name, body.question, body.sql, "api")
        return KeptAnswer(**to_dict(kept))

    @app.delete("/v1/databases/{name}/solved/{id}", status_code=204)
    def forget(name: str, id: str) -> Response:
        if not service.kept(name).remove(id):
            return _error(404, f"no kept answer {id!r} for {name!r}")
        return Response(status_code=204)

    @app.post("/v1/sql", response_model=SQLResponse)
    async def sql(body: SQLRequest) -> SQLResponse:
        start = time.perf_counter()
        answer = await run_in_threadpool(
            service.sql,
            body.question,
            body.database,
            body.schema_,
            body.dialect,
            body.candidates,
            _solved(body.solved),
        )
        return SQLResponse(**_answer_fields(answer, start, body.dialect))

    @app.post("/v1/query", response_model=QueryResponse)
    async def query(body: QueryRequest) -> QueryResponse:
        start = time.perf_counter()
        answer = await run_in_threadpool(
            service.query,
            body.database,
            body.question,
            body.sql,
            body.max_rows,
            body.candidates,
            _solved(body.solved),
        )
        return QueryResponse(**_answer_fields(answer, start), **_result_fields(answer.result))

    return app


def _solved(pairs: list[SolvedPair] | None) -> tuple[Solved, ...] | None:
    return None if pairs is None else solved_from_items([p.model_dump() for p in pairs])


def _answer_fields(answer: Answer, start: float, dialect: str | None = None) -> dict:
    source = answer.prediction.example.dialect
    sql = pretty_sql(answer.sql, source, to=dialect) if dialect else answer.sql
    return {
        "sql": sql,
        "valid": answer.valid,
        "problems": list(answer.problems),
        "notes": list(answer.notes),
        "latency_ms": round((time.perf_counter() - start) * 1000, 1),
        "model": answer.prediction.model,
        "choice": _choice(answer),
        "alternatives": [
            Alternative(sql=tried[i].sql, votes=tried[i].votes, rows=tried[i].rows)
            for tried in [answer.prediction.candidates]
            for i in alternatives(answer.prediction)
        ],
    }


def _choice(answer: Answer) -> Choice:
    tried = answer.prediction.candidates
    method = "candidates" if len(tried) > 1 else "greedy"
    return Choice(
        method="given" if answer.prediction.model == PERSON else method,
        chosen=answer.prediction.chosen + 1,
        tried=max(len(tried), 1),
        ran=sum(c.ran for c in tried),
        summary=describe(answer.prediction),
    )


def _result_fields(result: Result | None) -> dict:
    assert result is not None  # Service.query always runs the SQL
    rows = [[_jsonable(v) for v in row] for row in result.rows]
    return {
        "columns": list(result.columns),
        "rows": rows,
        "truncated": result.truncated,
        "query_ms": round(result.elapsed_ms, 1),
    }


def _jsonable(value: Any) -> Any:
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, bytes):
        return f"<{len(value)} bytes>"
    return str(value)  # dates, decimals, UUIDs


def _error(status: int, message: str) -> JSONResponse:
    return JSONResponse({"detail": message}, status_code=status)
