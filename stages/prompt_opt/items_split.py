"""One row per valid item drawn into a split: `train` (feeds the meta prompt) or `heldout` (only reported).

The draw is a seeded shuffle; items beyond both sizes are rejected as `not_drawn`, so the funnel shows them.
The held-out split takes what is left when the data holds fewer than `heldout_size` items.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from engine.context import Context
from engine.rows import Rejected
from stages.prompt_opt.items_valid import Item


class Params(BaseModel):
    model_config = ConfigDict(extra="forbid")
    train_size: int = Field(ge=1)
    heldout_size: int = Field(ge=1)


class SplitItem(Item):
    parent_ids: list[str]
    split: Literal["train", "heldout"]


def items_split(items_valid: list[dict], params: Params, ctx: Context) -> list[SplitItem | Rejected]:
    if len(items_valid) <= params.train_size:
        raise ValueError(f"{len(items_valid)} valid items leave none for the held-out split "
                         f"(prompt_opt.train_size={params.train_size})")
    order = list(items_valid)
    ctx.rng.shuffle(order)
    heldout_end = params.train_size + params.heldout_size
    return [{**item, "split": "train"} if i < params.train_size
            else {**item, "split": "heldout"} if i < heldout_end
            else Rejected(item, "not_drawn", f"beyond train_size + heldout_size = {heldout_end}")
            for i, item in enumerate(order)]
