"""The loopback server's Files and Batches APIs, driven by the official openai client: uploads, batches answered
over the processing delay with the sim's answers, injected line failures in the error file, cancel, validation."""

from __future__ import annotations

import json

import openai
import pytest

from engine.testing.fake_openai import serve_in_thread


def line(custom_id: str, content: str, url: str = "/v1/chat/completions") -> str:
    return json.dumps({"custom_id": custom_id, "method": "POST", "url": url,
                       "body": {"model": "m", "messages": [{"role": "user", "content": content}]}}) + "\n"


@pytest.fixture
def served():
    with serve_in_thread(batch_delay_s=0.0) as handle:
        yield handle, openai.OpenAI(base_url=handle.base_url, api_key="test")


def submit(client: openai.OpenAI, body: str):
    file = client.files.create(file=("in.jsonl", body.encode()), purpose="batch")
    return client.batches.create(input_file_id=file.id, endpoint="/v1/chat/completions", completion_window="24h",
                                 metadata={"who": "test"})


def test_a_batch_answers_every_line_with_the_sim_and_writes_output_and_error_files(served):
    handle, client = served
    handle.server.plan.extend([None, "server_error", None])
    batch = submit(client, line("generic.echo|0|a", "one") + line("generic.echo|0|b", "two")
                   + line("generic.echo|1|c", "three"))
    assert batch.status == "validating" and batch.metadata == {"who": "test"}
    done = client.batches.retrieve(batch.id)
    assert done.status == "completed" and done.request_counts.model_dump() == {"total": 3, "completed": 2,
                                                                                 "failed": 1}
    output = [json.loads(x) for x in client.files.content(done.output_file_id).content.splitlines()]
    errors = [json.loads(x) for x in client.files.content(done.error_file_id).content.splitlines()]
    assert [(o["custom_id"], o["response"]["body"]["choices"][0]["message"]["content"]) for o in output] == \
        [("generic.echo|0|a", "one"), ("generic.echo|1|c", "three")]
    assert [(e["custom_id"], e["response"]["status_code"]) for e in errors] == [("generic.echo|0|b", 500)]
    billed = sum(o["response"]["body"]["usage"]["total_tokens"] for o in output)
    assert handle.server.stats() | {"faults": None} == {"requests": 3, "answered": 2, "billed_tokens": billed,
                                                        "in_flight": 0, "max_in_flight": 0, "faults": None,
                                                        "batches": 1, "batch_lines": 3, "model_lists": 0}
    assert [b.id for b in client.batches.list()] == [batch.id]


def test_a_batch_answers_over_its_delay_and_a_cancelled_one_keeps_what_it_answered(served):
    handle, client = served
    handle.server.batch_api.hold_lines = 1
    batch = submit(client, line("generic.echo|0|a", "one") + line("generic.echo|0|b", "two"))
    held = client.batches.retrieve(batch.id)
    assert held.status == "in_progress" and held.request_counts.completed == 1
    assert client.batches.cancel(batch.id).status == "cancelling"
    cancelled = client.batches.retrieve(batch.id)
    assert cancelled.status == "cancelled" and cancelled.cancelled_at is not None
    assert len(client.files.content(cancelled.output_file_id).content.splitlines()) == 1


def test_a_batch_with_duplicate_ids_or_another_endpoint_fails_validation(served):
    _, client = served
    batch = submit(client, line("generic.echo|0|a", "x") + line("generic.echo|0|a", "y", url="/v1/embeddings"))
    failed = client.batches.retrieve(batch.id)
    assert failed.status == "failed" and failed.output_file_id is None
    assert [e.code for e in failed.errors.data] == ["duplicate_custom_id", "invalid_url"]


def test_unknown_files_and_batches_are_404(served):
    _, client = served
    with pytest.raises(openai.NotFoundError):
        client.files.content("file-404")
    with pytest.raises(openai.NotFoundError):
        client.batches.retrieve("batch_404")
