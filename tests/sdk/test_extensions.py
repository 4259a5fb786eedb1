"""The first extensions end to end, through the official `openai` SDK and the
CLI, on a binary built with `--features all-extensions`: usage and cost
(`x-switchboard-cost-usd` matching the price catalog, `/v1/usage`),
guardrails (a card number reaches the provider redacted), and self-defining
functions (defined with `switchboard call`, callable over HTTP and from the
CLI, surviving a restart).

The mock echoes `You said: <last user message>`, so what the provider
received is visible in the answer.
"""

from __future__ import annotations

import json
import subprocess
import urllib.request

import pytest

from sbtest import WORKSPACE, switchboard_bin

pytestmark = pytest.mark.extensions

CARD = "4111 1111 1111 1111"  # Luhn-valid test card number


def config(db: str) -> str:
    return f"""
[providers.mock]
kind = "mock"
token_delay_ms = 0

[state]
path = "{db}"

[extensions.usage]
enabled = true

[extensions.guardrails]
enabled = true
order = -10

[extensions.request-log]
enabled = true
path = "requests.jsonl"

[extensions.functions]
enabled = true
"""


def mock_price() -> dict:
    catalog = json.loads((WORKSPACE / "extensions/usage/prices.json").read_text())
    mock = next(p for p in catalog["providers"] if p["kind"] == "mock")
    return mock["models"]["mock-1"]


def cli(gw, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(switchboard_bin()), *args, "--config", str(gw.workdir / "switchboard.toml")],
        cwd=gw.workdir,
        capture_output=True,
        text=True,
        timeout=30,
    )


def post_json(gw, path: str, body: dict) -> tuple[int, dict]:
    req = urllib.request.Request(
        gw.base_url + path,
        data=json.dumps(body).encode(),
        method="POST",
        headers={"content-type": "application/json"},
    )
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read())


@pytest.fixture
def ext_gw(pool, tmp_path):
    return pool.start(config(str(tmp_path / "state.db")), name="ext")


def test_cost_header_matches_the_catalog_and_usage_shows_it(ext_gw):
    client = ext_gw.openai()
    raw = client.chat.completions.with_raw_response.create(
        model="mock/mock-1",
        messages=[{"role": "user", "content": "price this answer please"}],
    )
    answer = raw.parse()
    usage = answer.usage
    assert usage.prompt_tokens > 0 and usage.completion_tokens > 0
    price = mock_price()
    expected = (usage.prompt_tokens * price["input"] + usage.completion_tokens * price["output"]) / 1e6
    header = raw.headers.get("x-switchboard-cost-usd")
    assert header is not None, dict(raw.headers)
    assert float(header) == pytest.approx(expected, rel=1e-9)

    status, body = ext_gw.get("/v1/usage?group_by=model")
    assert status == 200, body
    totals = json.loads(body)["totals"]
    row = next(t for t in totals if t["group"] == "mock-1")
    assert row["requests"] >= 1
    assert row["input_tokens"] >= usage.prompt_tokens
    assert row["cost_usd"] == pytest.approx(expected, rel=1e-6)


def test_a_card_number_reaches_the_provider_redacted(ext_gw):
    client = ext_gw.openai()
    answer = client.chat.completions.create(
        model="mock/mock-1",
        messages=[{"role": "user", "content": f"my card is {CARD} thanks"}],
    )
    text = answer.choices[0].message.content
    assert "[REDACTED_CARD]" in text, text
    assert "4111" not in text, text
    # Streamed too.
    stream = client.chat.completions.create(
        model="mock/mock-1",
        messages=[{"role": "user", "content": f"again {CARD}"}],
        stream=True,
    )
    streamed = "".join(c.choices[0].delta.content or "" for c in stream if c.choices)
    assert "[REDACTED_CARD]" in streamed and "4111" not in streamed, streamed


def test_a_function_defined_from_the_cli_is_callable_over_http_and_survives_a_restart(pool, tmp_path):
    db = str(tmp_path / "state.db")
    gw = pool.start(config(db), name="fn")
    definition = {
        "name": "echo_city",
        "description": "Says a city back",
        "template": "Tell me about {{city}}",
        "parameters": {
            "type": "object",
            "properties": {"city": {"type": "string"}},
            "required": ["city"],
        },
        "model": "mock/mock-1",
    }
    done = cli(gw, "call", "functions.define", "--json", json.dumps(definition))
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["function"]["name"] == "echo_city"

    status, body = post_json(gw, "/v1/functions/echo_city", {"city": "Lisbon"})
    assert status == 200, body
    assert "Lisbon" in body["text"], body
    # A bad argument is a 400 naming it.
    status, body = post_json(gw, "/v1/functions/echo_city", {"city": 7})
    assert status == 400, body
    assert "city" in json.dumps(body), body
    # From the CLI as well.
    done = cli(gw, "call", "functions.echo_city", "--json", '{"city": "Porto"}')
    assert done.returncode == 0, done.stderr
    assert "Porto" in json.loads(done.stdout)["text"]

    # A new process on the same store still has it.
    gw.stop()
    again = pool.start(config(db), name="fn-again")
    status, body = post_json(again, "/v1/extensions/functions/echo_city", {"city": "Faro"})
    assert status == 200, body
    assert "Faro" in body["text"], body
    status, body = post_json(again, "/v1/functions/nope", {})
    assert status == 404, body
    assert "echo_city" in json.dumps(body), body
