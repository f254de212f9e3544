"""The sim's constraint space at the real case's width: every template and two-part combination reads back from its
own text and its own checker's source, renders texts its checker agrees with, and the lines the sim writes stay
distinct through the constraints stage's deduplication (the point of the width)."""

from __future__ import annotations

import random

import pytest

from sims.autoif import catalogue, catalogue_wide, constraint_space
from sims.autoif import teacher as sim_teacher
from sims.autoif.teacher import augment
from stages.autoif.constraints import Params as ConstraintParams
from stages.autoif.constraints import constraints

EVERY = list(constraint_space.TEMPLATES) + list(constraint_space.COMBOS.values())


@pytest.mark.parametrize("template", EVERY, ids=lambda t: t.name)
def test_a_constraint_and_its_checker_read_back_and_its_texts_agree_with_the_checker(template):
    rng = random.Random(template.name)
    for _ in range(20):
        params = template.draw(rng)
        text = constraint_space.state(template, params, rng)
        assert constraint_space.parse_constraint(text) == (template, params), text
        code = constraint_space.code_for(template, params)
        compile(code, template.name, "exec")
        assert constraint_space.parse_code(code) == (template, params), code
        sentences = catalogue.prose(["garden", "travel"], rng, 5)
        for comply in (True, False):
            assert template.check(template.render(sentences, params, comply, rng), params) is comply
        if template.boundary is not None:  # it breaks the constraint
            assert template.check(template.boundary(sentences, params, rng), params) is False


@pytest.mark.parametrize("template", constraint_space.TEMPLATES, ids=lambda t: t.name)
def test_a_misreading_and_a_slip_render_texts_at_every_drawn_parameter(template):
    # a sample that misreads the constraint, or slips on a number, writes its cases with the other template or the
    # slipped parameters: a render that cannot (an empty range) was a failed sim request at the real case's size
    rng = random.Random(template.name)
    sentences = catalogue.prose(["garden", "travel"], rng, 5)
    for _ in range(200):
        params = template.draw(rng)
        readings = [(template, template.perturb(params, rng))] if template.perturb else []
        if template.misread_as:
            readings.append((constraint_space.BY_NAME[template.misread_as], params))
        for reading, read_params in readings:
            for comply in (True, False):
                assert isinstance(reading.render(sentences, read_params, comply, rng), str)


def test_a_combined_checker_runs_and_agrees_with_the_host_check():
    template = constraint_space.BY_NAME["words_min+no_comma"]
    params = {"n": 30}
    namespace: dict = {}
    exec(constraint_space.code_for(template, params), namespace)  # noqa: S102 (the sim's own checker)
    long, short = " ".join(["word"] * 40), " ".join(["word"] * 10)
    assert namespace["evaluate"](long) is True and namespace["evaluate"](long + ", x") is False
    assert namespace["evaluate"](short) is False


def test_the_sim_reads_a_combination_in_every_connector_and_misreads_it_with_its_first_part():
    text = 'Answer with less than 90 words. Also, include the keywords "river" and "garden" in your response.'
    template, params = constraint_space.parse_constraint(text)
    assert template.name == "words_max+keywords_two" and params == {"n": 90, "w1_b": "river", "w2_b": "garden"}
    assert template.misread_as == "words_at_most+keywords_two" and template.misread_as in constraint_space.BY_NAME
    assert constraint_space.parse_constraint("Answer with less than 90 words. Write in a warm tone.") is None


def test_the_added_keywords_are_safe_to_add_and_remove():
    extra = [w for w in catalogue_wide.KEYWORDS if w not in catalogue.KEYWORDS]
    assert len(extra) > 60
    for word in extra:
        assert catalogue.clean(word) == word and not any(w in word or word in w for w in catalogue.KEYWORDS)


def test_the_lines_the_sim_writes_stay_distinct_through_deduplication():
    prompt = "Here are examples of such instructions, one per line:\nAnswer with at least 300 words.\n\n" \
             "Write 50 new instructions, different from the examples, one per line."
    lines = []
    for k in range(40):
        reply = augment([{"role": "user", "content": prompt}], random.Random(k), {})
        lines += reply.truth["lines"]
    rows = [{"id": f"line-{i}", "text": text} for i, text in enumerate(lines)]
    kept = [r for r in constraints([], rows, ConstraintParams(near_duplicate_threshold=90)) if isinstance(r, dict)]
    # copies and light paraphrases (16% of lines) are dropped; nearly every new line is a constraint of its own
    assert 0.8 <= len(kept) / len(lines) <= 0.9
    known = sum(sim_teacher.cat.parse_constraint(r["text"]) is not None for r in kept)
    assert known / len(kept) > 0.85
