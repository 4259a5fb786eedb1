"""The official `anthropic` SDK against Switchboard's Anthropic API
(`POST /v1/messages`), on the mock provider.

Run these alone with `bash tests/sdk/run.sh -m anthropic`.
"""

from __future__ import annotations

import asyncio
import json
import time

import anthropic
import pytest

from sbtest import GOOD_KEY, mock_with_fault, schema_errors

pytestmark = pytest.mark.anthropic

MODEL = "mock-1"

WEATHER_SCHEMA = {
    "type": "object",
    "properties": {
        "city": {"type": "string"},
        "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]},
        "days": {"type": "integer", "minimum": 1, "maximum": 7},
    },
    "required": ["city", "unit", "days"],
    "additionalProperties": False,
}
TIME_SCHEMA = {
    "type": "object",
    "properties": {"tz": {"type": "string"}, "24h": {"type": "boolean"}},
    "required": ["tz", "24h"],
}
TOOLS = [
    {"name": "get_weather", "description": "Weather forecast for a city", "input_schema": WEATHER_SCHEMA},
    {"name": "get_time", "description": "Local time in a timezone", "input_schema": TIME_SCHEMA},
]


def user(content) -> dict:
    return {"role": "user", "content": content}


def text_of(message) -> str:
    return "".join(b.text for b in message.content if b.type == "text")


# ---------------------------------------------------------------------------
# messages: sync, async, streaming
# ---------------------------------------------------------------------------


def test_messages_create(mock_gw):
    client = mock_gw.anthropic()
    msg = client.messages.create(model=MODEL, max_tokens=256, messages=[user("Hello there gateway")])
    assert msg.type == "message"
    assert msg.role == "assistant"
    assert msg.id
    assert msg.model.split("/")[-1] == "mock-1"
    assert [b.type for b in msg.content] == ["text"]
    assert msg.content[0].text == "You said: Hello there gateway"
    assert msg.stop_reason == "end_turn"
    assert msg.usage.input_tokens == 3
    assert msg.usage.output_tokens == 5


def test_messages_system_and_content_blocks(mock_gw):
    client = mock_gw.anthropic()
    msg = client.messages.create(
        model="mock/mock-1",
        max_tokens=256,
        system="Be brief.",
        # anthropic 2.x no longer has `temperature` in its signature; older
        # SDKs and other clients still send it.
        extra_body={"temperature": 0.5, "top_p": 0.9},
        messages=[
            user("first question"),
            {"role": "assistant", "content": "first answer"},
            user([{"type": "text", "text": "second question"}]),
        ],
    )
    assert text_of(msg) == "You said: second question"
    assert msg.stop_reason == "end_turn"


def test_messages_max_tokens(mock_gw):
    client = mock_gw.anthropic()
    msg = client.messages.create(model=MODEL, max_tokens=3, messages=[user("one two three four five")])
    assert msg.stop_reason == "max_tokens"
    assert text_of(msg) == "You said: one"
    assert msg.usage.output_tokens == 3


def test_messages_stream_helper(mock_gw):
    client = mock_gw.anthropic()
    with client.messages.stream(model=MODEL, max_tokens=256, messages=[user("stream me please")]) as stream:
        pieces = list(stream.text_stream)
        final = stream.get_final_message()
    assert "".join(pieces) == "You said: stream me please"
    assert len(pieces) >= 4, pieces
    assert text_of(final) == "You said: stream me please"
    assert final.stop_reason == "end_turn"
    assert final.usage.output_tokens == 5
    assert final.usage.input_tokens == 3


def test_messages_stream_event_sequence(mock_gw):
    client = mock_gw.anthropic()
    events = list(client.messages.create(model=MODEL, max_tokens=256, messages=[user("raw events")], stream=True))
    types = [e.type for e in events]
    assert types[0] == "message_start"
    assert types[1] == "content_block_start"
    assert types[-3:] == ["content_block_stop", "message_delta", "message_stop"]
    assert set(types[2:-3]) == {"content_block_delta"}
    deltas = [e.delta.text for e in events if e.type == "content_block_delta"]
    assert "".join(deltas) == "You said: raw events"
    message_delta = events[-2]
    assert message_delta.delta.stop_reason == "end_turn"
    assert message_delta.usage.output_tokens == 4


def test_messages_stream_is_not_buffered(slow_gw):
    client = slow_gw.anthropic()
    times, text = [], ""
    with client.messages.stream(model=MODEL, max_tokens=256, messages=[user("a b c d e f")]) as stream:
        for piece in stream.text_stream:
            times.append(time.monotonic())
            text += piece
    assert text == "You said: a b c d e f"
    assert times[-1] - times[0] >= 0.2, f"text arrived together ({times[-1] - times[0]:.3f}s apart): buffered?"


async def test_messages_async(mock_gw):
    async with mock_gw.async_anthropic() as client:
        texts = [f"async number {i}" for i in range(5)]
        results = await asyncio.gather(
            *(client.messages.create(model=MODEL, max_tokens=64, messages=[user(t)]) for t in texts)
        )
        assert [text_of(m) for m in results] == [f"You said: {t}" for t in texts]
        async with client.messages.stream(model=MODEL, max_tokens=64, messages=[user("async stream")]) as stream:
            pieces = [p async for p in stream.text_stream]
            final = await stream.get_final_message()
    assert "".join(pieces) == "You said: async stream"
    assert final.stop_reason == "end_turn"


# ---------------------------------------------------------------------------
# tool use, both directions
# ---------------------------------------------------------------------------


def test_tool_use(mock_gw):
    client = mock_gw.anthropic()
    msg = client.messages.create(
        model=MODEL, max_tokens=256, messages=[user("What's the weather in Paris?")], tools=TOOLS
    )
    assert msg.stop_reason == "tool_use"
    uses = [b for b in msg.content if b.type == "tool_use"]
    assert len(uses) == 1
    block = uses[0]
    assert block.id
    assert block.name == "get_weather"
    assert isinstance(block.input, dict)
    assert schema_errors(block.input, WEATHER_SCHEMA) == []


def test_tool_choice_names_the_tool(mock_gw):
    client = mock_gw.anthropic()
    msg = client.messages.create(
        model=MODEL,
        max_tokens=256,
        messages=[user("What time is it?")],
        tools=TOOLS,
        tool_choice={"type": "tool", "name": "get_time"},
    )
    block = next(b for b in msg.content if b.type == "tool_use")
    assert block.name == "get_time"
    assert schema_errors(block.input, TIME_SCHEMA) == []


def test_tool_result_round_trip(mock_gw):
    client = mock_gw.anthropic()
    messages = [user("What's the weather in Paris?")]
    first = client.messages.create(model=MODEL, max_tokens=256, messages=messages, tools=TOOLS)
    block = next(b for b in first.content if b.type == "tool_use")
    messages.append({"role": "assistant", "content": [b.model_dump(exclude_none=True) for b in first.content]})
    messages.append(user([{"type": "tool_result", "tool_use_id": block.id, "content": "sunny, 21 degrees"}]))
    second = client.messages.create(model=MODEL, max_tokens=256, messages=messages, tools=TOOLS)
    assert second.stop_reason == "end_turn"
    assert text_of(second) == "Tool result received: sunny, 21 degrees"
    assert not any(b.type == "tool_use" for b in second.content)


def test_tool_use_streamed(mock_gw):
    client = mock_gw.anthropic()
    partials = []
    starts = []
    with client.messages.stream(
        model=MODEL, max_tokens=256, messages=[user("What's the weather in Paris?")], tools=TOOLS
    ) as stream:
        for event in stream:
            if event.type == "content_block_start":
                starts.append(event.content_block)
            elif event.type == "input_json":
                partials.append(event.partial_json)
        final = stream.get_final_message()
    tool_starts = [b for b in starts if b.type == "tool_use"]
    assert len(tool_starts) == 1
    assert tool_starts[0].id and tool_starts[0].name == "get_weather"
    assert len(partials) >= 2, "input should arrive in several input_json_delta fragments"
    assert schema_errors(json.loads("".join(partials)), WEATHER_SCHEMA) == []
    assert final.stop_reason == "tool_use"
    block = next(b for b in final.content if b.type == "tool_use")
    assert block.id == tool_starts[0].id
    assert schema_errors(block.input, WEATHER_SCHEMA) == []


def test_tool_result_streamed(mock_gw):
    client = mock_gw.anthropic()
    messages = [
        user("What's the weather in Paris?"),
        {
            "role": "assistant",
            "content": [
                {"type": "tool_use", "id": "toolu_01", "name": "get_weather",
                 "input": {"city": "Paris", "unit": "celsius", "days": 1}}
            ],
        },
        user([{"type": "tool_result", "tool_use_id": "toolu_01",
               "content": [{"type": "text", "text": "rain all day"}]}]),
    ]
    with client.messages.stream(model=MODEL, max_tokens=256, messages=messages, tools=TOOLS) as stream:
        text = "".join(stream.text_stream)
        final = stream.get_final_message()
    assert text == "Tool result received: rain all day"
    assert final.stop_reason == "end_turn"


# ---------------------------------------------------------------------------
# errors
# ---------------------------------------------------------------------------


def _error_type(err) -> str:
    assert isinstance(err.body, dict), err.body
    assert err.body.get("type") == "error", err.body
    return err.body["error"]["type"]


def test_400_invalid_temperature(mock_gw):
    client = mock_gw.anthropic()
    with pytest.raises(anthropic.BadRequestError) as info:
        client.messages.create(model=MODEL, max_tokens=64, messages=[user("hi")], extra_body={"temperature": 5.0})
    assert info.value.status_code == 400
    assert "temperature" in str(info.value)
    assert _error_type(info.value) == "invalid_request_error"


@pytest.mark.parametrize(
    "override, field",
    [
        ({"messages": "not a list"}, "messages"),
        ({"max_tokens": "lots"}, "max_tokens"),
        ({"messages": [{"role": "wizard", "content": "hi"}]}, "role"),
    ],
    ids=["messages-not-list", "max_tokens-string", "unknown-role"],
)
def test_400_malformed_request(mock_gw, override, field):
    client = mock_gw.anthropic()
    with pytest.raises(anthropic.BadRequestError) as info:
        client.messages.create(model=MODEL, max_tokens=64, messages=[user("hi")], extra_body=override)
    assert field in info.value.body["error"]["message"], info.value.body
    assert _error_type(info.value) == "invalid_request_error"


def test_400_invalid_json_body(mock_gw):
    status, _, body = mock_gw.post_raw("/v1/messages", b'{"model": "mock-1", "messages": [')
    assert status == 400
    parsed = json.loads(body)
    assert parsed["type"] == "error"
    assert parsed["error"]["type"] == "invalid_request_error"


def test_401_wrong_or_missing_key(keyed_gw):
    with pytest.raises(anthropic.AuthenticationError) as info:
        keyed_gw.anthropic(api_key="sk-ant-wrong").messages.create(
            model=MODEL, max_tokens=64, messages=[user("hi")]
        )
    assert info.value.status_code == 401
    assert _error_type(info.value) == "authentication_error"
    status, _, body = keyed_gw.post_raw(
        "/v1/messages", json.dumps({"model": MODEL, "max_tokens": 64, "messages": [user("hi")]}).encode()
    )
    assert status == 401
    parsed = json.loads(body)
    assert parsed["type"] == "error" and parsed["error"]["type"] == "authentication_error"


def test_401_right_key_works(keyed_gw):
    # The SDK sends the key as `x-api-key`.
    msg = keyed_gw.anthropic(api_key=GOOD_KEY).messages.create(
        model=MODEL, max_tokens=64, messages=[user("let me in")]
    )
    assert text_of(msg) == "You said: let me in"


def test_404_unknown_model(multi_gw):
    client = multi_gw.anthropic()
    with pytest.raises(anthropic.NotFoundError) as info:
        client.messages.create(model="claude-nope", max_tokens=64, messages=[user("hi")])
    assert info.value.status_code == 404
    assert _error_type(info.value) == "not_found_error"
    message = info.value.body["error"]["message"]
    assert "claude-nope" in message
    for available in ("alpha/mock-1", "beta/mock-2"):
        assert available in message, message


def test_429_rate_limited(pool):
    gw = pool.start(mock_with_fault('{ kind = "rate_limited", retry_after_ms = 1000 }'), name="ant-ratelimited")
    client = gw.anthropic(max_retries=0)
    with pytest.raises(anthropic.RateLimitError) as info:
        client.messages.create(model=MODEL, max_tokens=64, messages=[user("hi")])
    assert info.value.status_code == 429
    assert info.value.response.headers["retry-after"] == "1"
    assert _error_type(info.value) == "rate_limit_error"


def test_5xx_on_upstream_failure(pool):
    gw = pool.start(mock_with_fault('{ kind = "upstream", status = 500 }'), name="ant-upstream-fail")
    client = gw.anthropic()
    with pytest.raises(anthropic.InternalServerError) as info:
        client.messages.create(model=MODEL, max_tokens=64, messages=[user("hi")])
    assert info.value.status_code >= 500
    assert _error_type(info.value) == "api_error"


def test_error_after_stream_started(pool):
    gw = pool.start(mock_with_fault('{ kind = "unavailable", after_events = 2 }'), name="ant-midstream")
    client = gw.anthropic()
    received = []
    with pytest.raises(anthropic.APIStatusError) as info:
        with client.messages.stream(model=MODEL, max_tokens=64, messages=[user("this answer will break")]) as stream:
            for event in stream:
                received.append(event)
    # The SDK raises on the `event: error` frame of a 200 response.
    assert received and received[0].type == "message_start"
    assert _error_type(info.value) == "overloaded_error"
    assert info.value.body["error"]["message"] == "injected unavailable fault"
