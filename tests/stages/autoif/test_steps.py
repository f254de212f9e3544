"""Each AutoIF step's own logic on hand-made rows, including the bad inputs the issue lists."""

from __future__ import annotations

import json
import random

from engine.rows import Rejected
from helpers.autoif.replies import verifier_reply
from sims.autoif import catalogue
from sims.autoif import teacher as sim_teacher
from stages.autoif.constraints import Params as DedupParams
from stages.autoif.constraints import constraints
from stages.autoif.nli import classified_label
from stages.autoif.responses_scored import Params as ScoreParams
from stages.autoif.responses_scored import meets
from stages.autoif.verifier_cases import verifier_cases


def _kept(out):
    return [r for r in out if not isinstance(r, Rejected)]


def _rejected(out):
    return {(r.reason, r.row.get("text")) for r in out if isinstance(r, Rejected)}


def test_dedup_drops_exact_and_near_duplicates_but_keeps_different_parameters():
    seeds = [{"id": "s1", "text": "Answer with at least 300 words."}]
    augmented = [{"id": f"a{i}", "text": t, "simulated": True} for i, t in enumerate([
        "answer with at least 300 words",  # exact after normalisation
        "Answer with at least 300 words in total.",  # near duplicate: same number, similar text
        "Answer with at least 350 words.",  # a different constraint
    ])]
    out = constraints(seeds, augmented, DedupParams(near_duplicate_threshold=85))
    assert [r["text"] for r in _kept(out)] == ["Answer with at least 300 words.", "Answer with at least 350 words."]
    rejected = [r for r in out if isinstance(r, Rejected)]
    assert [r.reason for r in rejected] == ["duplicate", "duplicate"]
    assert rejected[0].detail == "exact" and rejected[1].detail.startswith("near")
    assert all(r.row["duplicate_of"] == "constraint-00000" for r in rejected)


def test_unparseable_verifier_replies_say_what_was_wrong():
    assert "unterminated" in verifier_reply('{"func": "def evaluate(response): return True", "cases": [')[2]
    assert "expected a JSON object" in verifier_reply("[1, 2]")[2]
    assert "evaluate" in verifier_reply('{"func": "x = 1", "cases": [{"input": "a", "output": true}]}')[2]
    assert "cases" in verifier_reply('{"func": "def evaluate(response): return 1", "cases": []}')[2]
    func, cases, error = verifier_reply('Sure:\n```json\n{"func": "def evaluate(r): pass", "cases": [{"input": "a", '
                                        '"output": true}]}\n```')
    assert error is None and func.startswith("def evaluate") and len(cases) == 1


def test_case_outputs_are_normalised_explicitly_and_non_bools_rejected():
    cases = [{"input": "a", "output": True}, {"input": "b", "output": "True"}, {"input": "c", "output": "false"},
             {"input": "d", "output": "yes"}, {"input": "e", "output": 1}, {"input": "f", "output": None},
             {"input": "a", "output": False}, {"input": 7, "output": True}]
    out = verifier_cases([{"id": "v1", "constraint_id": "c1", "cases": json.dumps(cases)}])
    assert [(r["input"], r["expected"]) for r in _kept(out)] == [("a", True), ("b", True), ("c", False)]
    reasons = [(r.reason, r.detail) for r in out if isinstance(r, Rejected)]
    assert [r for r, _ in reasons] == ["non_bool_output"] * 3 + ["duplicate_case", "non_text_input"]
    assert reasons[3][1] == "conflicting label"


def test_score_comparison_is_a_config_choice():
    judge = "stages/autoif/prompts/judge.txt"
    at_least = ScoreParams(prompt=judge, score_threshold=8, score_comparison=">=", max_tokens=10)
    above = ScoreParams(prompt=judge, score_threshold=8, score_comparison=">", max_tokens=10)
    assert meets(8, at_least) and not meets(8, above) and meets(9, above)


def test_nli_labels_are_read_from_classifier_outputs():
    assert classified_label({"ENTAILMENT": 0.1, "NEUTRAL": 0.2, "CONTRADICTION": 0.7}) == "contradiction"


def test_sim_teacher_reads_a_constraint_and_writes_a_checkable_verifier():
    prompt = "Instruction: Answer with at least 30 words.\n"
    for k in range(20):
        reply = sim_teacher.verifier([{"role": "user", "content": prompt}], random.Random(k), {})
        if reply.truth["kind"] == "correct" and reply.truth["form"] != "broken":
            func, cases, error = verifier_reply(reply.text)
            assert error is None and catalogue.parse_code(func)[1] == {"n": 30}
            return
    raise AssertionError("no correct verifier in 20 samples")


def test_every_catalogue_template_renders_texts_its_checker_agrees_with():
    rng = random.Random(1)
    for template in catalogue.TEMPLATES:
        for _ in range(30):
            params = template.draw(rng)
            assert catalogue.parse_constraint(catalogue.state(template, params, rng)) == (template, params)
            sentences = catalogue.prose(["garden", "travel"], rng, 5)
            for comply in (True, False):
                assert template.check(template.render(sentences, params, comply, rng), params) is comply


def test_another_sim_model_has_its_own_misreadings_and_one_models_probes_keep_theirs():
    """The sim's model for a second role: another `misreading_model` misreads constraints independently of the
    generator's (at the same rate), and one model's probe replies share a misreading for the whole constraint,
    whatever the sample, so neither more samples nor a second role of the same model dilutes it."""
    rng = random.Random(3)
    misreadable = [t for t in catalogue.TEMPLATES if t.misread_as]
    texts = {catalogue.state(t, t.draw(rng), rng): t for t in misreadable for _ in range(300)}
    first = {text for text, t in texts.items() if sim_teacher.shared_misreading(text, t, {})}
    second = {text for text, t in texts.items() if sim_teacher.shared_misreading(text, t, {"misreading_model": 1})}
    assert 0.33 < len(first) / len(texts) < 0.47 and 0.33 < len(second) / len(texts) < 0.47
    assert 0.6 < len(first & second) / (len(first) * len(second) / len(texts)) < 1.4  # independent draws

    def shares(text: str, model: int, sample: int) -> bool:
        prompt = f"Instruction: {text}\n\nWrite 8 short test responses for checking it."
        reply = sim_teacher.probe([{"role": "user", "content": prompt}], random.Random(sample),
                                  {"misreading_model": model})
        return reply.truth["shares_misreading"]

    misread = sorted(first - second)[:200]
    by_constraint = [{shares(t, 0, k) for k in range(3)} for t in misread]
    assert all(len(seen) == 1 for seen in by_constraint)  # fixed per (model, constraint)
    assert 0.15 < sum(seen == {True} for seen in by_constraint) / len(misread) < 0.35  # probe_shares_misreading
    assert not any(shares(t, 1, 0) for t in misread)  # a model that reads it right writes probes that do
