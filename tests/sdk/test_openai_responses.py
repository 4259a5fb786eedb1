"""The official `openai` SDK's Responses API (`client.responses`) against
Switchboard's `POST /v1/responses`, on the mock provider.

The mock echoes `You said: <last user message>` one word per token, answers
a request with tools with a call `call_mock_0` whose arguments follow the
tool's schema, answers a tool result with `Tool result received: <result>`,
and follows `json_schema` formats (see providers/mock/README.md).
"""

from __future__ import annotations

import json

import openai
import pydantic
import pytest

pytestmark = pytest.mark.openai

MODEL = "mock-1"

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


def test_responses_text(mock_gw):
    client = mock_gw.openai()
    resp = client.responses.create(model=MODEL, input="Hello there gateway", instructions="Be brief")
    assert resp.id.startswith("resp_")
    assert resp.object == "response"
    assert resp.status == "completed"
    assert resp.output_text == "You said: Hello there gateway"
    assert resp.output[0].type == "message"
    assert resp.output[0].content[0].type == "output_text"
    assert resp.instructions == "Be brief"
    assert resp.usage.output_tokens == 5
    assert resp.usage.input_tokens > 0
    assert resp.usage.input_tokens_details.cached_tokens == 0
    assert resp.usage.output_tokens_details.reasoning_tokens == 0


def test_responses_message_items_input(mock_gw):
    client = mock_gw.openai()
    resp = client.responses.create(
        model=MODEL,
        input=[
            {"role": "developer", "content": "Answer plainly"},
            {"type": "message", "role": "user", "content": [{"type": "input_text", "text": "items work"}]},
        ],
        max_output_tokens=50,
        temperature=0.2,
        metadata={"case": "items"},
    )
    assert resp.output_text == "You said: items work"
    assert resp.metadata == {"case": "items"}
    assert resp.max_output_tokens == 50


def test_responses_stream(mock_gw):
    client = mock_gw.openai()
    seen = []
    deltas = []
    with client.responses.stream(model=MODEL, input="stream these words please") as stream:
        for event in stream:
            seen.append(event.type)
            if event.type == "response.output_text.delta":
                deltas.append(event.delta)
        final = stream.get_final_response()
    assert seen[:2] == ["response.created", "response.in_progress"]
    assert seen[-1] == "response.completed"
    assert "response.output_text.done" in seen
    assert "".join(deltas) == "You said: stream these words please"
    assert final.output_text == "You said: stream these words please"
    assert final.usage.output_tokens == 6


def test_responses_create_stream_sequence_numbers(mock_gw):
    client = mock_gw.openai()
    events = list(client.responses.create(model=MODEL, input="count me", stream=True))
    assert [e.sequence_number for e in events] == list(range(len(events)))
    assert events[-1].type == "response.completed"
    assert events[-1].response.output_text == "You said: count me"


def test_responses_tools_round_trip(mock_gw):
    client = mock_gw.openai()
    first = client.responses.create(model=MODEL, input="Weather in Paris?", tools=[WEATHER_TOOL])
    calls = [item for item in first.output if item.type == "function_call"]
    assert len(calls) == 1
    call = calls[0]
    assert call.name == "get_weather"
    assert call.call_id == "call_mock_0"
    assert call.id.startswith("fc_")
    args = json.loads(call.arguments)
    assert isinstance(args["city"], str) and isinstance(args["days"], int)

    # With previous_response_id: only the tool's output is sent.
    second = client.responses.create(
        model=MODEL,
        previous_response_id=first.id,
        input=[{"type": "function_call_output", "call_id": call.call_id, "output": "22C and windy"}],
        tools=[WEATHER_TOOL],
    )
    assert second.output_text == "Tool result received: 22C and windy"
    assert second.previous_response_id == first.id

    # Without it: the client sends the conversation back, the SDK's output items included.
    third = client.responses.create(
        model=MODEL,
        store=False,
        input=[
            {"role": "user", "content": "Weather in Paris?"},
            *first.output,
            {"type": "function_call_output", "call_id": call.call_id, "output": "sunny"},
        ],
        tools=[WEATHER_TOOL],
    )
    assert third.output_text == "Tool result received: sunny"


def test_responses_stream_tool_call(mock_gw):
    client = mock_gw.openai()
    with client.responses.stream(model=MODEL, input="Weather?", tools=[WEATHER_TOOL], tool_choice="required") as stream:
        arg_deltas = [e.delta for e in stream if e.type == "response.function_call_arguments.delta"]
        final = stream.get_final_response()
    call = final.output[0]
    assert call.type == "function_call"
    assert "".join(arg_deltas) == call.arguments
    assert json.loads(call.arguments)["city"]


class AnimalList(pydantic.BaseModel):
    animals: list[str]


def test_responses_structured_output(mock_gw):
    client = mock_gw.openai()
    schema = AnimalList.model_json_schema()
    schema["additionalProperties"] = False
    resp = client.responses.create(
        model=MODEL,
        input="Five animals",
        text={"format": {"type": "json_schema", "name": "animal_list", "schema": schema, "strict": True}},
    )
    assert isinstance(json.loads(resp.output_text)["animals"], list)

    parsed = client.responses.parse(model=MODEL, input="Five animals", text_format=AnimalList)
    assert isinstance(parsed.output_parsed, AnimalList)


def test_responses_previous_response_id_chain_retrieve_delete(mock_gw):
    client = mock_gw.openai()
    first = client.responses.create(model=MODEL, input="one")
    second = client.responses.create(model=MODEL, input="two", previous_response_id=first.id)
    third = client.responses.create(model=MODEL, input="three", previous_response_id=second.id)
    alone = client.responses.create(model=MODEL, input="three", store=False)
    assert third.output_text == "You said: three"
    # The stored turns were sent before the new input.
    assert third.usage.input_tokens > second.usage.input_tokens > first.usage.input_tokens
    assert third.usage.input_tokens > alone.usage.input_tokens

    got = client.responses.retrieve(first.id)
    assert got.id == first.id and got.output_text == "You said: one"
    client.responses.delete(first.id)
    with pytest.raises(openai.NotFoundError):
        client.responses.retrieve(first.id)
    # The later responses keep their own copy of the conversation.
    fourth = client.responses.create(model=MODEL, input="four", previous_response_id=third.id)
    assert fourth.output_text == "You said: four"


def test_responses_errors(mock_gw):
    client = mock_gw.openai(max_retries=0)
    with pytest.raises(openai.NotFoundError):
        client.responses.retrieve("resp_does_not_exist")
    with pytest.raises(openai.BadRequestError) as err:
        client.responses.create(model=MODEL, input="x", previous_response_id="resp_does_not_exist")
    assert err.value.body["param"] == "previous_response_id"
    with pytest.raises(openai.BadRequestError):
        client.responses.create(model=MODEL, input="x", tools=[{"type": "web_search"}])
