"""Virtual keys through the official SDKs (the `keys` extension, on a binary
built with `--features all-extensions`): a key made over the admin API
authenticates each SDK its own way (`Authorization: Bearer` for `openai`,
`x-api-key` for `anthropic`); past its limit each SDK raises its
`RateLimitError` carrying `retry-after` and the `x-ratelimit-*` headers; a
client with retries on honours `retry-after` and gets through once the slot
frees; a revoked key is an `AuthenticationError`.
"""

from __future__ import annotations

import json
import threading
import time
import urllib.error
import urllib.request

import anthropic
import httpx2 as httpx  # the HTTP client both SDKs are built on
import openai
import pytest

pytestmark = pytest.mark.extensions

ADMIN = "admin-token-for-the-sdk-keys-tests"


def config(db: str) -> str:
    return f"""
[server]
admin_token = "{ADMIN}"

[providers.mock]
kind = "mock"
token_delay_ms = 0

[state]
path = "{db}"

[extensions.keys]
enabled = true
"""


def admin(gw, method: str, path: str, body: dict | None = None) -> tuple[int, dict]:
    req = urllib.request.Request(
        gw.base_url + path,
        data=json.dumps(body).encode() if body is not None else None,
        method=method,
        headers={"content-type": "application/json", "authorization": f"Bearer {ADMIN}"},
    )
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read())


def make_key(gw, **settings) -> tuple[str, str]:
    status, made = admin(gw, "POST", "/keys", {"name": "sdk", **settings})
    assert status == 201, made
    return made["id"], made["key"]


@pytest.fixture
def keys_gw(pool, tmp_path):
    return pool.start(config(str(tmp_path / "state.db")), name="keys")


def say(text: str) -> list[dict]:
    return [{"role": "user", "content": text}]


def test_openai_rate_limit_error_carries_retry_after_and_the_limit_headers(keys_gw):
    _, key = make_key(keys_gw, rpm=1)
    client = keys_gw.openai(api_key=key)
    client.chat.completions.create(model="mock/mock-1", messages=say("first"))
    with pytest.raises(openai.RateLimitError) as caught:
        client.chat.completions.create(model="mock/mock-1", messages=say("second"))
    err = caught.value
    assert err.status_code == 429
    assert err.code == "rate_limit_exceeded", err.body
    headers = err.response.headers
    assert 1 <= int(headers["retry-after"]) <= 60, dict(headers)
    assert headers["x-ratelimit-limit-requests"] == "1"
    assert headers["x-ratelimit-remaining-requests"] == "0"
    assert headers["x-ratelimit-reset-requests"].endswith("s")
    # The error names the key's id, never the key.
    assert key not in json.dumps(err.body)


def test_anthropic_rate_limit_error_in_its_own_format(keys_gw):
    _, key = make_key(keys_gw, rpm=1)
    client = keys_gw.anthropic(api_key=key)
    client.messages.create(model="mock/mock-1", max_tokens=16, messages=say("first"))
    with pytest.raises(anthropic.RateLimitError) as caught:
        client.messages.create(model="mock/mock-1", max_tokens=16, messages=say("second"))
    err = caught.value
    assert err.status_code == 429
    assert err.body["type"] == "error", err.body
    assert err.body["error"]["type"] == "rate_limit_error", err.body
    headers = err.response.headers
    assert 1 <= int(headers["retry-after"]) <= 60, dict(headers)
    assert headers["x-ratelimit-limit-requests"] == "1"
    assert headers["x-ratelimit-remaining-requests"] == "0"


def hold_the_slot(gw, key: str, ms: int) -> threading.Thread:
    """A request of `key` that holds its one `max_parallel` slot for `ms`."""
    holder = gw.openai(api_key=key)

    def run():
        holder.chat.completions.create(
            model="mock/mock-1",
            messages=say("hold the slot"),
            extra_body={"mock": {"first_token_latency_ms": ms}},
        )

    t = threading.Thread(target=run)
    t.start()
    return t


def recording_client(log: list) -> httpx.Client:
    """An HTTP client that notes when each request leaves and each answer
    (with its status and `retry-after`) comes back."""

    def on_request(request):
        log.append(("request", time.monotonic(), None, None))

    def on_response(response):
        log.append(("response", time.monotonic(), response.status_code, response.headers.get("retry-after")))

    return httpx.Client(event_hooks={"request": [on_request], "response": [on_response]}, timeout=15.0)


@pytest.mark.parametrize("sdk", ["openai", "anthropic"])
def test_a_retrying_client_honours_retry_after_and_gets_through(keys_gw, sdk):
    _, key = make_key(keys_gw, max_parallel=1)
    holder = hold_the_slot(keys_gw, key, 1500)
    time.sleep(0.25)  # the holder is admitted and waiting on the mock
    log: list = []
    http = recording_client(log)
    if sdk == "openai":
        client = keys_gw.openai(api_key=key, max_retries=4, http_client=http)
        answer = client.chat.completions.create(model="mock/mock-1", messages=say("patient"))
        assert answer.choices[0].message.content == "You said: patient"
    else:
        client = keys_gw.anthropic(api_key=key, max_retries=4, http_client=http)
        answer = client.messages.create(model="mock/mock-1", max_tokens=16, messages=say("patient"))
        assert answer.content[0].text == "You said: patient"
    holder.join(timeout=10)
    # Refused while the slot was held, each time with `retry-after: 1`; the
    # SDK waited that second before each retry (its own first backoff is at
    # most 0.5 s), and got through once the holder finished.
    statuses = [status for kind, _, status, _ in log if kind == "response"]
    assert statuses[0] == 429 and statuses[-1] == 200, log
    for (kind, at, status, retry_after), (next_kind, next_at, _, _) in zip(log, log[1:]):
        if kind == "response" and status == 429:
            assert retry_after == "1", log
            assert next_kind == "request"
            assert next_at - at >= 0.95, f"retried after {next_at - at:.3f}s: {log}"


def test_a_revoked_key_is_an_authentication_error_in_both_sdks(keys_gw):
    key_id, key = make_key(keys_gw)
    keys_gw.openai(api_key=key).chat.completions.create(model="mock/mock-1", messages=say("ok"))
    status, revoked = admin(keys_gw, "DELETE", f"/keys/{key_id}")
    assert status == 200 and revoked["revoked_at"], revoked
    assert "key" not in revoked, "a stored key is never shown again"
    with pytest.raises(openai.AuthenticationError) as caught:
        keys_gw.openai(api_key=key).chat.completions.create(model="mock/mock-1", messages=say("no"))
    assert "revoked" in str(caught.value.body), caught.value.body
    with pytest.raises(anthropic.AuthenticationError):
        keys_gw.anthropic(api_key=key).messages.create(model="mock/mock-1", max_tokens=16, messages=say("no"))
