"""AutoIF stages on scripted replies shaped like real models' (a fake generator, no sim): what each stage keeps,
rejects and re-asks."""

from __future__ import annotations

from types import SimpleNamespace

from engine.config import PROJECT_ROOT
from engine.llm import Response
from engine.rows import Rejected
from stages.autoif import back_translations, constraints, constraints_augmented, nli, probes, verifier_samples


class ScriptedLLM:
    """Answers each request with reply(request); records what it was asked."""

    def __init__(self, reply):
        self.reply, self.asked = reply, []

    def complete(self, requests, desc=None):
        self.asked += list(requests)
        return [r if isinstance(r := self.reply(q), Response) else Response(ok=True, text=r) for q in requests]


def _ctx(llm: ScriptedLLM) -> SimpleNamespace:
    return SimpleNamespace(project_root=PROJECT_ROOT, llm=lambda role: llm, progress=lambda it, **_: it)


def _kept(out):
    return [r for r in out if not isinstance(r, Rejected)]


def _reasons(out):
    return [r.reason for r in out if isinstance(r, Rejected)]


def test_a_cut_augmentation_reply_keeps_its_whole_lines_and_rejects_the_cut_one():
    cut = Response(ok=True, text="Here are 3 new instructions:\n1. Answer with at least 40 words.\n"
                                 "**2.** Do not use any commas.\n", partial="3. The very first word of your rep",
                   finish_reason="length")
    refused = Response(ok=False, text=None, error="cut at max_tokens", reason="truncated", partial="1. Use")
    replies = iter([cut, refused])
    llm = ScriptedLLM(lambda q: next(replies))
    params = constraints_augmented.Params(prompt="stages/autoif/prompts/augment.txt", augment_calls=2,
                                          lines_per_call=3, max_tokens=4096, constraint_min_chars=12,
                                          constraint_max_chars=300)
    out = constraints_augmented.constraints_augmented([{"id": "s1", "text": "Answer in English."}], params,
                                                      _ctx(llm))
    assert [r["text"] for r in _kept(out)] == ["Answer with at least 40 words.", "Do not use any commas."]
    assert _reasons(out) == ["preamble", "truncated", "truncated"]
    assert all(q.truncation == "whole_lines" and q.max_tokens == 4096 for q in llm.asked)


def test_opposite_constraints_are_not_near_duplicates():
    seeds = [{"id": "s1", "text": "Answer with at least 80 words."}]
    lines = ["Answer with at most 80 words.", "Answer with fewer than 80 words.", "Answer with less than 80 words.",
             "Do not use commas in the response.", "Use commas in the response."]
    out = constraints.constraints(seeds, [{"id": f"a{i}", "text": t} for i, t in enumerate(lines)],
                                  constraints.Params(near_duplicate_threshold=85))
    kept = [r["text"] for r in _kept(out)]
    assert kept == ["Answer with at least 80 words.", "Answer with at most 80 words.",
                    "Answer with fewer than 80 words.", "Do not use commas in the response.",
                    "Use commas in the response."]
    assert [r.row["text"] for r in out if isinstance(r, Rejected)] == ["Answer with less than 80 words."]


def test_back_translations_read_the_instruction_not_the_preamble_or_its_label():
    replies = {"f1": "Sure! Here is the instruction:\n\nAnswer with fewer than 80 words.",
               "f2": "**Instruction:** Do not use any commas.",
               "f3": 'End your response with "Thank you."',
               "f4": "<think>It checks nothing.</think>"}
    llm = ScriptedLLM(lambda q: next(v for k, v in replies.items() if f"# {k}" in q.messages[0]["content"]))
    verifiers = [{"id": k, "constraint_id": "c1", "code": f"# {k}\ndef evaluate(response):\n    return True\n"}
                 for k in replies]
    out = back_translations.back_translations(
        verifiers, back_translations.Params(prompt="stages/autoif/prompts/back_translate.txt", max_tokens=256),
        _ctx(llm))
    assert [r["text"] for r in _kept(out)] == ["Answer with fewer than 80 words.", "Do not use any commas.",
                                               'End your response with "Thank you."']
    assert _reasons(out) == ["empty_reply"]


def test_nli_reads_the_label_a_reply_commits_to():
    replies = ["Not a contradiction: entailment.", "Neither.", "The premise neither entails nor contradicts it.",
               "**Answer:** contradiction", "It may be entailment or neutral."]
    answers = iter(replies)
    llm = ScriptedLLM(lambda q: next(answers))
    back = [{"id": f"b{i}", "constraint_id": "c1", "verifier_id": f"v{i}", "text": "Use no commas."}
            for i in range(len(replies))]
    out = nli.nli(back, [{"id": "c1", "text": "Do not use commas."}],
                  nli.Params(nli_method="llm", prompt="stages/autoif/prompts/nli.txt", max_tokens=16), _ctx(llm))
    assert [r["label"] for r in _kept(out)] == ["entailment", "neutral", "neutral", "contradiction"]
    assert _reasons(out) == ["no_label"]


def test_verifier_code_replies_are_read_and_replies_without_cases_are_reasked_once():
    code_with_asserts = ("Here is the function:\n```python\ndef evaluate(response):\n    return ',' not in response\n"
                         "\nassert evaluate('no commas') == True\nassert evaluate('a, b') == False\n```")
    code_only = "```python\ndef evaluate(response):\n    return response.islower()\n```"
    reasked_json = '{"func": "def evaluate(response):\\n    return response.islower()", ' \
                   '"cases": [{"input": "abc", "output": True}, {"input": "Abc", "output": False}]}'

    def reply(q):
        if len(q.messages) > 1:  # the re-ask: the reply had no cases
            return reasked_json if "lowercase" in q.messages[0]["content"] else "Sorry, I cannot."
        return code_with_asserts if "commas" in q.messages[0]["content"] else code_only

    llm = ScriptedLLM(reply)
    params = verifier_samples.Params(prompt="stages/autoif/prompts/verifier.txt", verifiers_per_constraint=3,
                                     max_tokens=512)
    out = verifier_samples.verifier_samples([{"id": "c1", "text": "Do not use any commas."},
                                             {"id": "c2", "text": "Write in lowercase letters only."}], params,
                                            _ctx(llm))
    kept = _kept(out)
    assert [(r["constraint_id"], r["reasked"]) for r in kept] == [("c1", False)] * 3 + [("c2", True)] * 3
    assert "assert" not in kept[0]["code"] and '"a, b"' in kept[0]["cases"]
    assert len(llm.asked) == 6 + 3 and all("Your reply could not be used" in q.messages[-1]["content"]
                                           for q in llm.asked[6:])


def test_each_prober_role_writes_its_own_probe_set_and_a_reply_nothing_reads_is_rejected_for_its_constraint():
    fenced = ('Here are the test responses:\n```json\n[{"input": "Short answer.", "output": true}, '
              '{"input": "A, b", "output": false}, {"input": 3, "output": false}]\n```')
    first = ScriptedLLM(lambda q: fenced)
    second = ScriptedLLM(lambda q: fenced if "commas" in q.messages[0]["content"] else "I cannot help with that.")
    llms = {"prober": first, "second_prober": second}
    ctx = SimpleNamespace(project_root=PROJECT_ROOT, llm=lambda role: llms[role], progress=lambda it, **_: it)
    params = probes.Params(prompt="stages/autoif/prompts/probe.txt", probes_per_constraint=2, max_tokens=512,
                           probers=["prober", "second_prober"])
    out = probes.probes([{"id": "c1", "text": "Do not use any commas."},
                         {"id": "c2", "text": "Answer with fewer than 80 words."}], params, ctx)
    assert [(r["constraint_id"], r["prober"], r["expected"]) for r in _kept(out)] == [
        ("c1", "prober", True), ("c1", "prober", False), ("c2", "prober", True), ("c2", "prober", False),
        ("c1", "second_prober", True), ("c1", "second_prober", False)]
    assert [(r.row["constraint_id"], r.row["prober"], r.reason) for r in out if isinstance(r, Rejected)] == [
        ("c1", "prober", "not_a_probe"), ("c2", "prober", "not_a_probe"), ("c1", "second_prober", "not_a_probe"),
        ("c2", "second_prober", "parse_error")]
    assert len(first.asked) == 2 and len(second.asked) == 3  # the unreadable reply was re-asked once
    assert "Do not use any commas." in second.asked[0].messages[0]["content"]
