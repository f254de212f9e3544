"""Tiny random transformers models, built on the spot for tests: nothing is downloaded.

`build_tiny_causal_lm(dir)` and `build_tiny_nli_classifier(dir)` save a 2-layer Llama (hidden size 32) and
its word-level tokenizer (trained here on a few sentences, with a chat template) to `dir`, which the hf
backend then loads by path. Their outputs are random but deterministic for the seed.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

SENTENCES = [
    "the cat sat on the mat",
    "a dog runs in the park",
    "the answer is A B C or D",
    "write a python function that returns the sum of two numbers",
    "this sentence is true and that one is false",
    "entailment neutral contradiction premise hypothesis",
    "hello world how are you today",
]
SPECIAL_TOKENS = ["<pad>", "<unk>", "<s>", "</s>", "<|system|>", "<|user|>", "<|assistant|>", "<|end|>"]
CHAT_TEMPLATE = (
    "{% for m in messages %}<|{{ m['role'] }}|> {{ m['content'] }} <|end|> {% endfor %}"
    "{% if add_generation_prompt %}<|assistant|> {% endif %}"
)
NLI_LABELS = {0: "entailment", 1: "neutral", 2: "contradiction"}


def tiny_tokenizer(sentences: list[str] = SENTENCES) -> Any:
    """A word-level tokenizer over `sentences` (unknown words map to <unk>), with a chat template."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    tokenizer = Tokenizer(models.WordLevel(unk_token="<unk>"))
    tokenizer.pre_tokenizer = pre_tokenizers.Whitespace()
    tokenizer.decoder = decoders.WordPiece(prefix="##")  # joins word tokens with spaces
    tokenizer.train_from_iterator(sentences, trainers.WordLevelTrainer(special_tokens=SPECIAL_TOKENS))
    fast = PreTrainedTokenizerFast(
        tokenizer_object=tokenizer, pad_token="<pad>", unk_token="<unk>", bos_token="<s>", eos_token="</s>"
    )
    fast.chat_template = CHAT_TEMPLATE
    return fast


def _llama_config(tokenizer: Any, **extra: Any) -> Any:
    from transformers import LlamaConfig

    return LlamaConfig(
        vocab_size=len(tokenizer),
        hidden_size=32,
        intermediate_size=64,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        max_position_embeddings=512,
        pad_token_id=tokenizer.pad_token_id,
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        **extra,
    )


def build_tiny_causal_lm(directory: Path, seed: int = 0) -> Path:
    import torch
    from transformers import LlamaForCausalLM

    tokenizer = tiny_tokenizer()
    torch.manual_seed(seed)
    LlamaForCausalLM(_llama_config(tokenizer)).save_pretrained(directory)
    tokenizer.save_pretrained(directory)
    return directory


def build_tiny_nli_classifier(directory: Path, seed: int = 0) -> Path:
    import torch
    from transformers import LlamaForSequenceClassification

    tokenizer = tiny_tokenizer()
    torch.manual_seed(seed)
    config = _llama_config(
        tokenizer,
        num_labels=len(NLI_LABELS),
        id2label=NLI_LABELS,
        label2id={label: i for i, label in NLI_LABELS.items()},
    )
    LlamaForSequenceClassification(config).save_pretrained(directory)
    tokenizer.save_pretrained(directory)
    return directory
