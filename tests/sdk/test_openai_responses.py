"""The official `openai` SDK's Responses API (`client.responses`) against
Switchboard's `POST /v1/responses`, each test twice: on the mock provider
(marker `openai`) and through an `openai-compatible` instance to the fake
OpenAI upstream (marker `upstream`), so the Responses → Chat Completions
translation is checked on the wire the upstream receives.

The mock echoes `You said: <last user message>` one word per token, answers
a request with tools with a call `call_mock_0` whose arguments follow the
tool's schema, answers a tool result with `Tool result received: <result>`,
and follows `json_schema` formats (see providers/mock/README.md). The fake
upstream answers `Upstream heard: <last message>`, calls the first tool with
`{"city":"New York City"}` (`call_up_1`, streamed `call_up_2`), answers a tool
result with `The tool said: <result>` and a `json_schema` format with an
example of the schema (see `FakeOpenAI` in sbtest.py).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import openai
import pydantic
import pytest

from sbtest import UPSTREAM_TOOL_ARGS_FRAGMENTS, FakeOpenAI, Gateway, schema_errors

WEATHER_TOOL = {
    "type": "function",
    "name": "get_weather",
    "description": "Weather forecast for a city",
    "parameters": {
        "type": "object",
        "properties": {"city": {"type": "string"}, "days": {"type": "integer"}},
        "required": ["city", "days"],
        "additionalProperties": False,
    },
}


@dataclass
class Backend:
    """One gateway under test and what its provider answers."""

    gw: Gateway
    model: str
    # Templates of the answer to a user text and to a tool result.
    said: str
    tool_said: str
    # The call ids of a tool call, non-streamed and streamed.
    call_id: str
    stream_call_id: str
    upstream: FakeOpenAI | None = None

    def echo(self, text: str) -> str:
        return self.said.format(text)

    def tool_echo(self, output: str) -> str:
        return self.tool_said.format(output)

    def check_arguments(self, args: dict) -> None:
        if self.upstream is None:
            # The mock follows the tool's schema.
            assert schema_errors(args, WEATHER_TOOL["parameters"]) == [], args
        else:
            assert args == json.loads("".join(UPSTREAM_TOOL_ARGS_FRAGMENTS))

    def sent(self) -> dict | None:
        """The last Chat Completions body the upstream received (None on the mock)."""
        if self.upstream is None:
            return None
        requests = self.upstream.chat_requests()
        assert requests, "the upstream received no chat request"
        return requests[-1][3]


def text_of(content: Any) -> Any:
    """A Chat Completions message content as plain text (parts joined)."""
    if isinstance(content, list):
        return "".join(p.get("text", "") for p in content)
    return content


# Each backend: its gateway fixture, the model, the answers to a user text
# and to a tool result, the call ids (non-streamed, streamed) and the fake
# upstream's fixture (None: no upstream to inspect).
BACKENDS = {
    "mock": ("mock_gw", "mock-1", "You said: {}", "Tool result received: {}", "call_mock_0", "call_mock_0", None),
    "upstream": (
        "upstream_gw", "up/gpt-4o-mini", "Upstream heard: {}", "The tool said: {}", "call_up_1", "call_up_2",
        "fake_upstream",
    ),
}


@pytest.fixture(
    params=[
        pytest.param("mock", marks=pytest.mark.openai),
        pytest.param("upstream", marks=pytest.mark.upstream),
    ]
)
def backend(request) -> Backend:
    gw, model, said, tool_said, call_id, stream_call_id, upstream = BACKENDS[request.param]
    return Backend(
        gw=request.getfixturevalue(gw),
        model=model,
        said=said,
        tool_said=tool_said,
        call_id=call_id,
        stream_call_id=stream_call_id,
        upstream=request.getfixturevalue(upstream) if upstream else None,
    )


def test_responses_text(backend):
    client = backend.gw.openai()
    resp = client.responses.create(model=backend.model, input="Hello there gateway", instructions="Be brief")
    assert resp.id.startswith("resp_")
    assert resp.object == "response"
    assert resp.status == "completed"
    assert resp.output_text == backend.echo("Hello there gateway")
    assert resp.output[0].type == "message"
    assert resp.output[0].content[0].type == "output_text"
    assert resp.instructions == "Be brief"
    assert resp.usage.output_tokens == 5
    assert resp.usage.input_tokens > 0
    assert resp.usage.input_tokens_details.cached_tokens == 0
    assert resp.usage.output_tokens_details.reasoning_tokens == 0
    sent = backend.sent()
    if sent is not None:
        assert resp.usage.input_tokens == FakeOpenAI.PROMPT_TOKENS
        assert [(m["role"], text_of(m["content"])) for m in sent["messages"]] == [
            ("system", "Be brief"),
            ("user", "Hello there gateway"),
        ]
        assert not sent.get("stream")


def test_responses_message_items_input(backend):
    client = backend.gw.openai()
    resp = client.responses.create(
        model=backend.model,
        input=[
            {"role": "developer", "content": "Answer plainly"},
            {"type": "message", "role": "user", "content": [{"type": "input_text", "text": "items work"}]},
        ],
        max_output_tokens=50,
        temperature=0.2,
        metadata={"case": "items"},
    )
    assert resp.output_text == backend.echo("items work")
    assert resp.metadata == {"case": "items"}
    assert resp.max_output_tokens == 50
    sent = backend.sent()
    if sent is not None:
        assert [(m["role"], text_of(m["content"])) for m in sent["messages"]] == [
            ("developer", "Answer plainly"),
            ("user", "items work"),
        ]
        assert sent["max_tokens"] == 50
        assert sent["temperature"] == 0.2
        assert "metadata" not in sent, "the Responses metadata stays at the gateway"


def test_responses_stream(backend):
    client = backend.gw.openai()
    seen = []
    deltas = []
    with client.responses.stream(model=backend.model, input="stream these words please") as stream:
        for event in stream:
            seen.append(event.type)
            if event.type == "response.output_text.delta":
                deltas.append(event.delta)
        final = stream.get_final_response()
    assert seen[:2] == ["response.created", "response.in_progress"]
    assert seen[-1] == "response.completed"
    assert "response.output_text.done" in seen
    assert len(deltas) > 1, "streamed, not sent whole"
    assert "".join(deltas) == backend.echo("stream these words please")
    assert final.output_text == backend.echo("stream these words please")
    assert final.usage.output_tokens == 6
    sent = backend.sent()
    if sent is not None:
        assert sent["stream"] is True
        assert sent["stream_options"] == {"include_usage": True}


def test_responses_create_stream_sequence_numbers(backend):
    client = backend.gw.openai()
    events = list(client.responses.create(model=backend.model, input="count me", stream=True))
    assert [e.sequence_number for e in events] == list(range(len(events)))
    assert events[-1].type == "response.completed"
    assert events[-1].response.output_text == backend.echo("count me")


def test_responses_tools_round_trip(backend):
    client = backend.gw.openai()
    first = client.responses.create(model=backend.model, input="Weather in Paris?", tools=[WEATHER_TOOL])
    calls = [item for item in first.output if item.type == "function_call"]
    assert len(calls) == 1
    call = calls[0]
    assert call.name == "get_weather"
    assert call.call_id == backend.call_id
    assert call.id.startswith("fc_")
    backend.check_arguments(json.loads(call.arguments))
    sent = backend.sent()
    if sent is not None:
        assert sent["tools"] == [
            {
                "type": "function",
                "function": {
                    "name": "get_weather",
                    "description": WEATHER_TOOL["description"],
                    "parameters": WEATHER_TOOL["parameters"],
                },
            }
        ]

    # With previous_response_id: only the tool's output is sent.
    second = client.responses.create(
        model=backend.model,
        previous_response_id=first.id,
        input=[{"type": "function_call_output", "call_id": call.call_id, "output": "22C and windy"}],
        tools=[WEATHER_TOOL],
    )
    assert second.output_text == backend.tool_echo("22C and windy")
    assert second.previous_response_id == first.id
    sent = backend.sent()
    if sent is not None:
        # The stored turn went upstream before the tool's output.
        user, assistant, tool = sent["messages"]
        assert (user["role"], text_of(user["content"])) == ("user", "Weather in Paris?")
        assert assistant["role"] == "assistant"
        assert [(c["id"], c["function"]["name"]) for c in assistant["tool_calls"]] == [(call.call_id, "get_weather")]
        assert json.loads(assistant["tool_calls"][0]["function"]["arguments"]) == json.loads(call.arguments)
        assert tool == {"role": "tool", "tool_call_id": call.call_id, "content": "22C and windy"}

    # Without it: the client sends the conversation back, the SDK's output items included.
    third = client.responses.create(
        model=backend.model,
        store=False,
        input=[
            {"role": "user", "content": "Weather in Paris?"},
            *first.output,
            {"type": "function_call_output", "call_id": call.call_id, "output": "sunny"},
        ],
        tools=[WEATHER_TOOL],
    )
    assert third.output_text == backend.tool_echo("sunny")


def test_responses_stream_tool_call(backend):
    client = backend.gw.openai()
    with client.responses.stream(
        model=backend.model, input="Weather?", tools=[WEATHER_TOOL], tool_choice="required"
    ) as stream:
        arg_deltas = [e.delta for e in stream if e.type == "response.function_call_arguments.delta"]
        final = stream.get_final_response()
    call = final.output[0]
    assert call.type == "function_call"
    assert call.call_id == backend.stream_call_id
    assert "".join(arg_deltas) == call.arguments
    backend.check_arguments(json.loads(call.arguments))
    sent = backend.sent()
    if sent is not None:
        assert sent["tool_choice"] == "required"


class AnimalList(pydantic.BaseModel):
    animals: list[str]


def test_responses_structured_output(backend):
    client = backend.gw.openai()
    schema = AnimalList.model_json_schema()
    schema["additionalProperties"] = False
    resp = client.responses.create(
        model=backend.model,
        input="Five animals",
        text={"format": {"type": "json_schema", "name": "animal_list", "schema": schema, "strict": True}},
    )
    assert isinstance(json.loads(resp.output_text)["animals"], list)
    assert resp.text.format.type == "json_schema"
    sent = backend.sent()
    if sent is not None:
        assert sent["response_format"] == {
            "type": "json_schema",
            "json_schema": {"name": "animal_list", "schema": schema, "strict": True},
        }

    parsed = client.responses.parse(model=backend.model, input="Five animals", text_format=AnimalList)
    assert isinstance(parsed.output_parsed, AnimalList)
    assert parsed.output_parsed.animals


def test_responses_previous_response_id_chain_retrieve_delete(backend):
    client = backend.gw.openai()
    first = client.responses.create(model=backend.model, input="one")
    second = client.responses.create(model=backend.model, input="two", previous_response_id=first.id)
    third = client.responses.create(model=backend.model, input="three", previous_response_id=second.id)
    sent = backend.sent()
    alone = client.responses.create(model=backend.model, input="three", store=False)
    assert third.output_text == backend.echo("three")
    if sent is None:
        # The stored turns were sent before the new input.
        assert third.usage.input_tokens > second.usage.input_tokens > first.usage.input_tokens
        assert third.usage.input_tokens > alone.usage.input_tokens
    else:
        assert [(m["role"], text_of(m["content"])) for m in sent["messages"]] == [
            ("user", "one"),
            ("assistant", backend.echo("one")),
            ("user", "two"),
            ("assistant", backend.echo("two")),
            ("user", "three"),
        ]
        assert [m["role"] for m in backend.sent()["messages"]] == ["user"], "store=False alone"

    got = client.responses.retrieve(first.id)
    assert got.id == first.id and got.output_text == backend.echo("one")
    client.responses.delete(first.id)
    with pytest.raises(openai.NotFoundError):
        client.responses.retrieve(first.id)
    # The later responses keep their own copy of the conversation.
    fourth = client.responses.create(model=backend.model, input="four", previous_response_id=third.id)
    assert fourth.output_text == backend.echo("four")
    sent = backend.sent()
    if sent is not None:
        assert [text_of(m["content"]) for m in sent["messages"]][:2] == ["one", backend.echo("one")]


def test_responses_errors(backend):
    client = backend.gw.openai(max_retries=0)
    asked = len(backend.upstream.requests) if backend.upstream else 0
    with pytest.raises(openai.NotFoundError):
        client.responses.retrieve("resp_does_not_exist")
    with pytest.raises(openai.BadRequestError) as err:
        client.responses.create(model=backend.model, input="x", previous_response_id="resp_does_not_exist")
    assert err.value.body["param"] == "previous_response_id"
    with pytest.raises(openai.BadRequestError):
        client.responses.create(model=backend.model, input="x", tools=[{"type": "web_search"}])
    if backend.upstream:
        assert len(backend.upstream.requests) == asked, "refused before any upstream request"
