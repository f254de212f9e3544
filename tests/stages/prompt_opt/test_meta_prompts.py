"""The meta prompt: which scored results it shows (random, best_worst) and how (original, opro)."""

from __future__ import annotations

import random
from types import SimpleNamespace

from engine.config import PROJECT_ROOT
from stages.prompt_opt.meta_prompts import Params, meta_prompts, select_results


def pool() -> list[dict]:
    ces = {"good": [0.1, 0.2, 0.3], "mid": [1.0, 1.5, 2.0], "bad": [9.2, 8.0, 7.0]}
    acc = {"good": 1.0, "mid": 0.67, "bad": 0.0}
    return [{"id": name, "prompt": f"the {name} prompt", "train_accuracy": acc[name],
             "train_cross_entropy": sum(c) / 3,
             "train_results": [{"item_id": f"i{j}", "answer": "A", "letter": "A" if ce < 1 else None,
                                "cross_entropy": ce} for j, ce in enumerate(c)]}
            for name, c in ces.items()]


def test_best_worst_shows_the_lowest_and_highest_cross_entropy_results():
    shown = select_results(pool(), "best_worst", 4, random.Random(0))
    assert [r["cross_entropy"] for _, r in shown] == [0.1, 0.2, 8.0, 9.2]


def test_best_worst_with_odd_k_shows_one_more_of_the_worst():
    shown = select_results(pool(), "best_worst", 3, random.Random(0))
    assert [r["cross_entropy"] for _, r in shown] == [0.1, 8.0, 9.2]


def test_random_draws_k_distinct_results_and_depends_on_the_seed():
    draws = [select_results(pool(), "random", 4, random.Random(seed)) for seed in range(5)]
    assert all(len({(p["id"], r["item_id"]) for p, r in d}) == 4 for d in draws)
    assert len({tuple((p["id"], r["item_id"]) for p, r in d) for d in draws}) > 1


def params(meta: str, strategy: str = "best_worst") -> Params:
    prompts = "stages/prompt_opt/prompts"
    return Params(meta=meta, strategy=strategy, k=4, proposals=2, meta_template=f"{prompts}/meta_{meta}.txt",
                  example_template=f"{prompts}/meta_original_example.txt",
                  opro_prompt_template=f"{prompts}/meta_opro_prompt.txt",
                  opro_exemplar_template=f"{prompts}/meta_opro_exemplar.txt", opro_max_prompts=2)


def ctx() -> SimpleNamespace:
    return SimpleNamespace(project_root=PROJECT_ROOT, iteration=0, rng=random.Random(0))


ITEMS = [{"id": f"i{j}", "question": f"Question {j}?", "answer": "A",
          "options": {"A": "yes", "B": "no", "C": "maybe", "D": "never"}} for j in range(3)]


def test_original_meta_prompt_shows_prompt_answers_and_cross_entropy():
    rows = meta_prompts(pool(), ITEMS, params("original"), ctx())
    assert [r["proposal_index"] for r in rows] == [0, 1]
    text = rows[0]["meta_prompt"]
    assert 'Prompt: "the good prompt"\nQuestion: Question 0?\nCorrect answer: A\nModel answer: A\n' \
           "Cross-entropy: 0.100" in text
    assert "Model answer: (no letter)\nCross-entropy: 9.200" in text
    assert rows[0]["shown_prompt_ids"] == ["good", "bad"]


def test_opro_meta_prompt_lists_the_best_prompts_worst_first_with_scores_and_exemplars():
    (row, _) = meta_prompts(pool(), ITEMS, params("opro"), ctx())
    text = row["meta_prompt"]
    assert text.index("text:\nthe mid prompt\nscore:\n67") < text.index("text:\nthe good prompt\nscore:\n100")
    assert "the bad prompt" not in text  # opro_max_prompts=2
    assert "Q: <INS>\nQuestion 0?\nA) yes" in text and "<INS> and </INS>" in text
