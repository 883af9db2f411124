"""Stand-ins that speak the real protocols: a scripted `Backend`, an OpenAI-compatible server."""

from __future__ import annotations

import json
import threading
from collections.abc import Sequence
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from smolsql.backends import Backend, GenerationSettings

# Completions by a word the question contains; the first match wins. A list scripts the
# greedy answer and then the sampled candidates, in order.
SCRIPT: dict[str, str | list[str]] = {
    "how many artists": "SELECT count(*) FROM artist<|im_end|>",
    "lisbon": "Here you go:\n```sql\n"
    "SELECT name FROM customer WHERE city = 'Lisbon' ORDER BY name;\n```",
    "first three": "SELECT name FROM customer ORDER BY name LIMIT 3",
    "ghost": "SELECT name FROM ghosts WHERE spooky = 1",
    "drop": "DROP TABLE artist",
    "prose": "I am not sure what you mean.",
    "second try": ["SELECT zzzz FROM artist", "SELECT name FROM artist"],
    "albums or customers": [
        "SELECT zzzz FROM artist",
        "SELECT title FROM album",
        "SELECT name FROM customer",
    ],
}


class ScriptedBackend(Backend):
    name = "scripted"
    can_sample = True

    def __init__(
        self,
        script: dict[str, str | list[str]] | None = None,
        likelihoods: dict[str, float] | None = None,
    ) -> None:
        """`likelihoods`: what `score` gives each completion (-1.0 when not named); without
        them the backend does not score."""
        self.script = SCRIPT if script is None else script
        self.prompts: list[str] = []
        self.sampled: list[tuple[str, int, int | None]] = []
        self.likelihoods = likelihoods or {}
        self.can_score = likelihoods is not None
        self.scored: list[tuple[str, list[str]]] = []

    def _answers(self, prompt: str) -> list[str]:
        question = prompt.rsplit("Write a SQL query for:", 1)[-1].lower()
        found = next((v for k, v in self.script.items() if k in question), "SELECT 1")
        return [found] if isinstance(found, str) else list(found)

    def generate(self, prompts: Sequence[str]) -> list[str]:
        self.prompts.extend(prompts)
        return [self._answers(p)[0] for p in prompts]

    def sample(
        self, prompts: Sequence[str], n: int, max_new_tokens: int | None = None
    ) -> list[list[str]]:
        """The scripted candidates after the first, repeated or cut to `n`."""
        self.sampled.extend((p, n, max_new_tokens) for p in prompts)
        out = []
        for prompt in prompts:
            answers = self._answers(prompt)
            rest = answers[1:] or answers
            out.append([rest[i % len(rest)] for i in range(n)])
        return out

    def score(self, prompt: str, completions: Sequence[str]) -> list[float]:
        if not self.can_score:
            return super().score(prompt, completions)
        self.scored.append((prompt, list(completions)))
        return [self.likelihoods.get(text, -1.0) for text in completions]


def scripted(model: str | None, settings: GenerationSettings) -> ScriptedBackend:
    """The factory `smolsql ask --backend fakes:scripted` calls."""
    return ScriptedBackend()


VERDICT = '{"correct": false, "error_type": "logic_error", "explanation": "wrong filter"}'


class ScriptedServer:
    """An OpenAI-compatible server on loopback answering POSTs in order from `replies`.

    Each reply is (status, content), content wrapped as a chat or text completion by the
    path asked for, or sent as it is when it starts with `RAW:`.
    """

    def __init__(self) -> None:
        self.replies: list[tuple[int, str]] = []
        self.requests: list[dict] = []
        self.headers: list = []  # email.message.Message: case-insensitive, as HTTP is
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                server.requests.append({"path": self.path, **body})
                server.headers.append(self.headers)
                status, content = server.replies.pop(0) if server.replies else (200, VERDICT)
                if status == 200 and not content.startswith("RAW:"):
                    if self.path.split("?")[0].endswith("/chat/completions"):
                        choice = {"message": {"role": "assistant", "content": content}}
                    else:
                        choice = {"text": content}
                    data = json.dumps({"choices": [choice]}).encode()
                else:
                    data = content.removeprefix("RAW:").encode()
                self.send_response(status)
                if status == 429:
                    self.send_header("Retry-After", "0")
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: object) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()


def model_folder(path: Path, notes: dict | None = None) -> Path:
    """A model folder as `resolve_model` reads it, no weights: `config.json`, and the
    `smolsql.json` of what it was trained to read when `notes` are given."""
    path.mkdir(parents=True, exist_ok=True)
    (path / "config.json").write_text("{}")
    if notes is not None:
        (path / "smolsql.json").write_text(json.dumps(notes))
    return path
