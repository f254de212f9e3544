"""One row per (reported prompt, held-out item): the evaluator's answer under the best prompt so far and the
iteration's best candidate (and, in iteration 0, the best initial prompt). Repeats cost nothing: the cache."""

from __future__ import annotations

from engine.context import Context
from engine.rows import Rejected
from helpers.prompt_opt.evaluation import EvaluatorParams, answer_rows, rank_key
from stages.prompt_opt.answers_initial import Answer


def heldout_picks(pool: list[dict], pool_prev: list[dict], candidates_scored: list[dict],
                  iteration: int) -> dict[str, tuple[dict, list[str]]]:
    """prompt id -> (prompt row, what it was picked as): best_so_far, iteration_best, initial_best."""
    picks: dict[str, tuple[dict, list[str]]] = {}
    chosen = [("best_so_far", pool), ("iteration_best", candidates_scored)]
    if iteration == 0:
        chosen.append(("initial_best", pool_prev))
    for role, rows in chosen:
        if rows:
            best = min(rows, key=rank_key)
            picks.setdefault(best["id"], (best, []))[1].append(role)
    return picks


def heldout_answers(pool: list[dict], pool_prev: list[dict], candidates_scored: list[dict],
                    items_heldout: list[dict], params: EvaluatorParams, ctx: Context) -> list[Answer | Rejected]:
    picks = heldout_picks(pool, pool_prev, candidates_scored, ctx.iteration)
    return answer_rows([row for row, _ in picks.values()], items_heldout, params, ctx,
                       desc=f"iteration {ctx.iteration} best prompts on held-out")
