"""Helpers for the SDK end-to-end suite: spawning `switchboard serve`, a fake
OpenAI upstream, and a small JSON Schema check.

Nothing here builds anything: the gateway binary comes from `SWITCHBOARD_BIN`
(default `target/debug/switchboard`, relative to the workspace root).
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import tempfile
import threading
import time
import urllib.error
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

WORKSPACE = Path(__file__).resolve().parents[2]

# Every generated config gets these, so a test that leaves a stream open
# cannot hold a shutdown for the default 30 s.
SERVER_DEFAULTS = "shutdown_grace_ms = 1000\n"


def switchboard_bin() -> Path:
    raw = os.environ.get("SWITCHBOARD_BIN", "target/debug/switchboard")
    path = Path(raw)
    if not path.is_absolute():
        path = WORKSPACE / path
    return path


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def with_server_defaults(config: str) -> str:
    """Adds `SERVER_DEFAULTS` to the `[server]` table (creating it if absent)."""
    lines = config.splitlines()
    for i, line in enumerate(lines):
        if line.strip() == "[server]":
            lines.insert(i + 1, SERVER_DEFAULTS.rstrip("\n"))
            return "\n".join(lines) + "\n"
    return "[server]\n" + SERVER_DEFAULTS + "\n" + config


class GatewayError(RuntimeError):
    pass


class Gateway:
    """One running `switchboard serve` process."""

    def __init__(self, proc: subprocess.Popen, port: int, workdir: Path, log_path: Path):
        self.proc = proc
        self.port = port
        self.workdir = workdir
        self.log_path = log_path

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def openai_base_url(self) -> str:
        return f"{self.base_url}/v1"

    def log(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except OSError:
            return ""

    def log_tail(self, lines: int = 40) -> str:
        """The log's last lines, without the readiness polling."""
        kept = [line for line in self.log().splitlines() if "path=/readyz" not in line]
        return "\n".join(kept[-lines:])

    def openai(self, api_key: str = "sk-test", **kwargs: Any):
        import openai

        kwargs.setdefault("max_retries", 0)
        kwargs.setdefault("timeout", 15.0)
        return openai.OpenAI(base_url=self.openai_base_url, api_key=api_key, **kwargs)

    def async_openai(self, api_key: str = "sk-test", **kwargs: Any):
        import openai

        kwargs.setdefault("max_retries", 0)
        kwargs.setdefault("timeout", 15.0)
        return openai.AsyncOpenAI(base_url=self.openai_base_url, api_key=api_key, **kwargs)

    def anthropic(self, api_key: str = "sk-ant-test", **kwargs: Any):
        import anthropic

        kwargs.setdefault("max_retries", 0)
        kwargs.setdefault("timeout", 15.0)
        return anthropic.Anthropic(base_url=self.base_url, api_key=api_key, **kwargs)

    def async_anthropic(self, api_key: str = "sk-ant-test", **kwargs: Any):
        import anthropic

        kwargs.setdefault("max_retries", 0)
        kwargs.setdefault("timeout", 15.0)
        return anthropic.AsyncAnthropic(base_url=self.base_url, api_key=api_key, **kwargs)

    def get(self, path: str) -> tuple[int, bytes]:
        try:
            with urllib.request.urlopen(self.base_url + path, timeout=2) as r:
                return r.status, r.read()
        except urllib.error.HTTPError as e:
            return e.code, e.read()

    def post_raw(self, path: str, body: bytes, headers: dict[str, str] | None = None) -> tuple[int, dict, bytes]:
        """A plain HTTP POST (for bodies no SDK would send)."""
        req = urllib.request.Request(self.base_url + path, data=body, method="POST")
        req.add_header("content-type", "application/json")
        for k, v in (headers or {}).items():
            req.add_header(k, v)
        try:
            with urllib.request.urlopen(req, timeout=10) as r:
                return r.status, dict(r.headers), r.read()
        except urllib.error.HTTPError as e:
            return e.code, dict(e.headers), e.read()

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=5)


class GatewayPool:
    """Starts gateways and stops every one of them on `close()`."""

    def __init__(self, tmp_root: Path):
        self.tmp_root = tmp_root
        self.gateways: list[Gateway] = []

    def start(self, config: str | None, *, name: str = "gw", ready_timeout: float = 15.0) -> Gateway:
        binary = switchboard_bin()
        if not binary.is_file():
            raise GatewayError(
                f"gateway binary not found at {binary}: run `cargo build -p switchboard` "
                "or set SWITCHBOARD_BIN"
            )
        workdir = Path(tempfile.mkdtemp(prefix=f"{name}-", dir=self.tmp_root))
        args = [str(binary), "serve"]
        if config is not None:
            cfg = workdir / "switchboard.toml"
            cfg.write_text(with_server_defaults(config))
            args += ["--config", str(cfg)]
        env = {
            k: v
            for k, v in os.environ.items()
            if k not in ("SWITCHBOARD_CONFIG", "SWITCHBOARD_LISTEN", "SWITCHBOARD_PROFILE")
        }
        env["NO_COLOR"] = "1"
        env.setdefault("SWITCHBOARD_LOG", "info")
        last_error = ""
        for _ in range(3):  # a port picked free may be taken before the bind
            port = free_port()
            log_path = workdir / f"serve-{port}.log"
            with open(log_path, "wb") as log:
                proc = subprocess.Popen(
                    args + ["--listen", f"127.0.0.1:{port}"],
                    cwd=workdir,
                    env=env,
                    stdin=subprocess.DEVNULL,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                )
            gw = Gateway(proc, port, workdir, log_path)
            self.gateways.append(gw)
            try:
                self._wait_ready(gw, ready_timeout)
                return gw
            except GatewayError as e:
                gw.stop()
                last_error = str(e)
                if "unknown provider kind" in gw.log():
                    last_error += (
                        "\n(hint: this binary does not link a provider the config uses: build it with "
                        "`cargo build -p switchboard --features <kind>` or `--features all-providers`)"
                    )
                if "cannot listen" not in gw.log():
                    break
        raise GatewayError(last_error)

    @staticmethod
    def _wait_ready(gw: Gateway, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        last = "no answer"
        while time.monotonic() < deadline:
            if gw.proc.poll() is not None:
                raise GatewayError(
                    f"switchboard serve exited with {gw.proc.returncode} before it was ready; log:\n{gw.log_tail()}"
                )
            try:
                status, body = gw.get("/readyz")
                if status == 200:
                    return
                last = f"HTTP {status}: {body[:500]!r}"
                # Up, but an instance could not start: it will not become ready.
                if "instance failed to start" in gw.log():
                    raise GatewayError(
                        f"GET /readyz is {last} and an instance failed to start; log:\n{gw.log_tail()}"
                    )
            except (urllib.error.URLError, ConnectionError, OSError) as e:
                last = str(e)
            time.sleep(0.02)
        raise GatewayError(f"GET /readyz not 200 within {timeout}s (last: {last}); log:\n{gw.log_tail()}")

    def close(self) -> None:
        for gw in self.gateways:
            gw.stop()
        self.gateways.clear()


# ---------------------------------------------------------------------------
# Configurations
# ---------------------------------------------------------------------------

# One mock instance answering at once.
MOCK_FAST = """
[providers.mock]
kind = "mock"
token_delay_ms = 0
"""

# Streaming that takes visible time: 40 ms after each token.
MOCK_SLOW = """
[providers.mock]
kind = "mock"
token_delay_ms = 40
"""

# Two instances, so an unknown model is a 404 instead of going to the only one.
MOCK_MULTI = """
[providers.alpha]
kind = "mock"
token_delay_ms = 0

[providers.beta]
kind = "mock"
models = ["mock-2", "mock-3"]
token_delay_ms = 0

[models.fast]
targets = ["alpha/mock-1"]
"""

GOOD_KEY = "sk-sb-good-0123456789"
LIMITED_KEY = "sk-sb-limited-0123456789"

MOCK_KEYED = f"""
[server]
api_keys = [
  {{ key = "{GOOD_KEY}", name = "good" }},
  {{ key = "{LIMITED_KEY}", name = "limited", models = ["mock/mock-1"] }},
]

[providers.mock]
kind = "mock"
models = ["mock-1", "mock-2"]
token_delay_ms = 0
"""


def mock_with_fault(fault: str, *, max_attempts: int = 1) -> str:
    """One mock instance with `fault = {fault}`; the router makes one attempt so
    the client sees the upstream error at once."""
    return f"""
[router]
max_attempts = {max_attempts}

[providers.mock]
kind = "mock"
token_delay_ms = 0
fault = {fault}
"""


UPSTREAM_KEY = "sk-upstream-secret-42"


def upstream_config(upstream: "FakeOpenAI") -> str:
    """One `openai-compatible` instance `up` in front of the fake upstream."""
    return f"""
[router]
max_attempts = 1

[providers.up]
kind = "openai-compatible"
base_url = "{upstream.base_url}"
api_key = "{UPSTREAM_KEY}"
"""


# ---------------------------------------------------------------------------
# JSON Schema (the subset the tests' tool schemas use)
# ---------------------------------------------------------------------------

_TYPES = {
    "object": dict,
    "array": list,
    "string": str,
    "boolean": bool,
    "null": type(None),
}


def schema_errors(value: Any, schema: dict, path: str = "$") -> list[str]:
    """Errors of `value` against `schema` (type, properties, required,
    additionalProperties, enum, minimum/maximum, items, minItems, minLength)."""
    errors: list[str] = []
    t = schema.get("type")
    if t is not None:
        types = t if isinstance(t, list) else [t]
        ok = False
        for ty in types:
            if ty == "integer":
                ok |= isinstance(value, int) and not isinstance(value, bool)
            elif ty == "number":
                ok |= isinstance(value, (int, float)) and not isinstance(value, bool)
            else:
                ok |= isinstance(value, _TYPES[ty]) and not (ty != "boolean" and isinstance(value, bool))
        if not ok:
            return [f"{path}: expected {t}, got {type(value).__name__} {value!r}"]
    if "enum" in schema and value not in schema["enum"]:
        errors.append(f"{path}: {value!r} not in {schema['enum']}")
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if "minimum" in schema and value < schema["minimum"]:
            errors.append(f"{path}: {value} < minimum {schema['minimum']}")
        if "maximum" in schema and value > schema["maximum"]:
            errors.append(f"{path}: {value} > maximum {schema['maximum']}")
    if isinstance(value, str) and "minLength" in schema and len(value) < schema["minLength"]:
        errors.append(f"{path}: shorter than {schema['minLength']}")
    if isinstance(value, dict):
        props = schema.get("properties", {})
        for req in schema.get("required", []):
            if req not in value:
                errors.append(f"{path}: missing required {req!r}")
        for k, v in value.items():
            if k in props:
                errors += schema_errors(v, props[k], f"{path}.{k}")
            elif schema.get("additionalProperties") is False:
                errors.append(f"{path}: unexpected property {k!r}")
    if isinstance(value, list):
        if "minItems" in schema and len(value) < schema["minItems"]:
            errors.append(f"{path}: fewer than {schema['minItems']} items")
        if "items" in schema:
            for i, item in enumerate(value):
                errors += schema_errors(item, schema["items"], f"{path}[{i}]")
    return errors


# ---------------------------------------------------------------------------
# A fake OpenAI upstream
# ---------------------------------------------------------------------------

UPSTREAM_MODEL = "gpt-4o-mini-2024-07-18"
UPSTREAM_TOOL_ARGS_FRAGMENTS = ['{"', "city", '":"', "New", " York", " City", '"}']


def schema_example(schema: dict, defs: dict | None = None) -> Any:
    """A small value valid against `schema` (the subset `schema_errors`
    checks, plus local `$ref`s): every property of an object, one item per
    array, the first `enum` value, the least number allowed."""
    defs = defs if defs is not None else schema.get("$defs", {})
    ref = schema.get("$ref", "")
    if ref.startswith("#/$defs/"):
        return schema_example(defs[ref.removeprefix("#/$defs/")], defs)
    if "enum" in schema:
        return schema["enum"][0]
    t = schema.get("type", "object")
    t = t[0] if isinstance(t, list) else t
    if t == "object":
        return {k: schema_example(v, defs) for k, v in schema.get("properties", {}).items()}
    if t == "array":
        return [schema_example(schema.get("items", {"type": "string"}), defs)] * max(1, schema.get("minItems", 1))
    if t in ("integer", "number"):
        return schema.get("minimum", 1)
    if t == "boolean":
        return True
    if t == "null":
        return None
    return "example".ljust(schema.get("minLength", 0), "!")


def upstream_answer(body: dict) -> str:
    fmt = body.get("response_format") or {}
    if fmt.get("type") == "json_schema":
        return json.dumps(schema_example(fmt["json_schema"]["schema"]), separators=(",", ":"))
    messages = body.get("messages") or []
    last = messages[-1] if messages else {}
    content = last.get("content")
    if isinstance(content, list):
        content = "".join(p.get("text", "") for p in content if isinstance(p, dict))
    if last.get("role") == "tool":
        return f"The tool said: {content}"
    return f"Upstream heard: {content}"


def _usage(prompt: int, completion: int) -> dict:
    return {
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "total_tokens": prompt + completion,
        "completion_tokens_details": {"reasoning_tokens": 0},
    }


class FakeOpenAI:
    """A tiny OpenAI Chat Completions server (shapes copied from
    crates/protocol/tests/data/openai/*.json and *.sse).

    - last message from a tool → text `The tool said: <content>`;
    - `tools` given (and `tool_choice` not `none`) → one `get_weather`-style
      tool call named after the first tool, arguments `{"city":"New York City"}`;
    - `response_format` of type `json_schema` → that schema's
      `schema_example`, as compact JSON text;
    - otherwise `Upstream heard: <last message>`;
    - a last user message `please 429` → HTTP 429 with `Retry-After: 1`;
    - streams split the text by words and the arguments into fragments, with a
      usage chunk when `stream_options.include_usage` is set.
    Every request is recorded in `requests` as (method, path, headers, json).
    """

    PROMPT_TOKENS = 11

    def __init__(self) -> None:
        self.requests: list[tuple[str, str, dict[str, str], Any]] = []
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:  # quiet
                pass

            def _json(self, status: int, obj: Any, headers: dict[str, str] | None = None) -> None:
                data = json.dumps(obj).encode()
                self.send_response(status)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(data)))
                for k, v in (headers or {}).items():
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self) -> None:
                fake.requests.append(("GET", self.path, dict(self.headers), None))
                if self.path.rstrip("/").endswith("/models"):
                    self._json(200, {"object": "list", "data": [
                        {"id": "gpt-4o-mini", "object": "model", "created": 1686935002, "owned_by": "openai"}
                    ]})
                else:
                    self._json(404, {"error": {"message": "not found", "type": "invalid_request_error", "param": None, "code": None}})

            def do_POST(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                raw = self.rfile.read(length)
                try:
                    body = json.loads(raw)
                except ValueError:
                    body = None
                fake.requests.append(("POST", self.path, dict(self.headers), body))
                if not self.path.rstrip("/").endswith("/chat/completions") or not isinstance(body, dict):
                    self._json(404, {"error": {"message": f"no route {self.path}", "type": "invalid_request_error", "param": None, "code": None}})
                    return
                messages = body.get("messages") or []
                last = messages[-1] if messages else {}
                if last.get("role") == "user" and last.get("content") == "please 429":
                    self._json(
                        429,
                        {"error": {"message": "Rate limit reached for gpt-4o-mini", "type": "requests", "param": None, "code": "rate_limit_exceeded"}},
                        {"retry-after": "1"},
                    )
                    return
                tool_call = bool(body.get("tools")) and body.get("tool_choice") != "none" and last.get("role") != "tool"
                if body.get("stream"):
                    self._stream(body, tool_call)
                else:
                    self._complete(body, tool_call)

            def _complete(self, body: dict, tool_call: bool) -> None:
                if tool_call:
                    name = body["tools"][0]["function"]["name"]
                    message = {
                        "role": "assistant",
                        "content": None,
                        "tool_calls": [{
                            "id": "call_up_1",
                            "type": "function",
                            "function": {"name": name, "arguments": "".join(UPSTREAM_TOOL_ARGS_FRAGMENTS)},
                        }],
                    }
                    finish, completion = "tool_calls", 17
                else:
                    text = upstream_answer(body)
                    message = {"role": "assistant", "content": text, "refusal": None, "annotations": []}
                    finish, completion = "stop", len(text.split())
                self._json(200, {
                    "id": "chatcmpl-up-1",
                    "object": "chat.completion",
                    "created": 1741569952,
                    "model": UPSTREAM_MODEL,
                    "choices": [{"index": 0, "message": message, "logprobs": None, "finish_reason": finish}],
                    "usage": _usage(FakeOpenAI.PROMPT_TOKENS, completion),
                    "service_tier": "default",
                })

            def _stream(self, body: dict, tool_call: bool) -> None:
                self.send_response(200)
                self.send_header("content-type", "text/event-stream")
                self.send_header("transfer-encoding", "chunked")
                self.end_headers()

                def chunk(delta: dict | None, finish: str | None = None, usage: dict | None = None) -> None:
                    obj: dict[str, Any] = {
                        "id": "chatcmpl-up-2",
                        "object": "chat.completion.chunk",
                        "created": 1727346168,
                        "model": UPSTREAM_MODEL,
                        "system_fingerprint": "fp_5050236cbd",
                        "choices": [] if delta is None else [
                            {"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}
                        ],
                    }
                    if usage is not None:
                        obj["usage"] = usage
                    send(b"data: " + json.dumps(obj).encode() + b"\n\n")

                def send(data: bytes) -> None:
                    self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
                    self.wfile.flush()

                if tool_call:
                    name = body["tools"][0]["function"]["name"]
                    chunk({"role": "assistant", "content": None, "tool_calls": [{
                        "index": 0, "id": "call_up_2", "type": "function",
                        "function": {"name": name, "arguments": ""}}], "refusal": None})
                    for frag in UPSTREAM_TOOL_ARGS_FRAGMENTS:
                        chunk({"tool_calls": [{"index": 0, "function": {"arguments": frag}}]})
                    chunk({}, "tool_calls")
                    completion = 16
                else:
                    text = upstream_answer(body)
                    chunk({"role": "assistant", "content": "", "refusal": None})
                    words = text.split(" ")
                    for i, w in enumerate(words):
                        chunk({"content": w if i == 0 else " " + w})
                    chunk({}, "stop")
                    completion = len(words)
                if (body.get("stream_options") or {}).get("include_usage"):
                    chunk(None, usage=_usage(FakeOpenAI.PROMPT_TOKENS, completion))
                send(b"data: [DONE]\n\n")
                self.wfile.write(b"0\r\n\r\n")
                self.wfile.flush()

        class Server(ThreadingHTTPServer):
            daemon_threads = True

            def handle_error(self, request: Any, client_address: Any) -> None:
                pass  # a client that hangs up mid-stream is not the test's failure

        self.server = Server(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/v1"

    def start(self) -> "FakeOpenAI":
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def chat_requests(self) -> list[tuple[str, str, dict[str, str], Any]]:
        return [r for r in self.requests if r[0] == "POST" and r[1].rstrip("/").endswith("/chat/completions")]
