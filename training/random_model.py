"""A random-weight Llama with a trained subword tokenizer: the stand-in for "someone else's model".

Tests and benchmarks use it to check that nothing assumes our character-level tokenizer: a BPE
vocabulary (merged multi-character tokens, a space marker) or a byte-level one (tokens that are
parts of a UTF-8 character), with or without a BOS token.

    python -m training.random_model runs/bpe16k --vocab 16000
"""

from __future__ import annotations

import argparse
import itertools
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import torch
from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast


@dataclass(frozen=True)
class RandomModelConfig:
    kind: Literal["bpe", "byte"] = "bpe"  # Metaspace BPE (sentencepiece-like) | GPT-2 byte-level BPE
    vocab_size: int = 8192
    bos: bool = True  # False: a tokenizer without a BOS token (sequences start at the prompt)
    layers: int = 2
    dim: int = 64
    heads: int = 4
    max_len: int = 2048
    seed: int = 0


def _texts() -> Iterator[str]:
    """Training text for the tokenizer: puzzles, worked steps and plain English, so that merges
    cross digits, operators, spaces and line ends."""
    from tasks import Game24

    task = Game24()
    for p in task.problems("train"):
        yield f"Input: {p.text}\nSteps:\n"
        for thought in task.thoughts(task.initial_state(p))[:12]:
            yield thought + "\n"
    yield from (Path(__file__).resolve().parent.parent / "README.md").read_text().split("\n\n")


def build_tokenizer(cfg: RandomModelConfig, texts: Iterable[str] = ()) -> PreTrainedTokenizerFast:
    """`texts`: more training text, for vocabularies larger than ours alone supports (about 3k
    merges: a 16k vocabulary needs some 10 MB more, such as Python's own sources)."""
    specials = ["<pad>", "<s>", "</s>", "<unk>"] if cfg.bos else ["<pad>", "</s>", "<unk>"]
    if cfg.kind == "bpe":
        core = Tokenizer(models.BPE(unk_token="<unk>"))
        core.pre_tokenizer = pre_tokenizers.Metaspace()
        core.decoder = decoders.Metaspace()
        alphabet: list[str] = []
    else:
        core = Tokenizer(models.BPE())
        core.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
        core.decoder = decoders.ByteLevel()
        alphabet = pre_tokenizers.ByteLevel.alphabet()
    trainer = trainers.BpeTrainer(
        vocab_size=cfg.vocab_size, special_tokens=specials, initial_alphabet=alphabet, show_progress=False
    )
    core.train_from_iterator(itertools.chain(_texts(), texts), trainer)
    return PreTrainedTokenizerFast(
        tokenizer_object=core,
        bos_token="<s>" if cfg.bos else None,
        eos_token="</s>",
        pad_token="<pad>",
        unk_token="<unk>",
        clean_up_tokenization_spaces=False,
    )


def build(out: Path, cfg: RandomModelConfig = RandomModelConfig(), texts: Iterable[str] = ()) -> Path:
    """Write a random-weight LlamaForCausalLM and its trained tokenizer to `out` (save_pretrained)."""
    tokenizer = build_tokenizer(cfg, texts)
    config = LlamaConfig(
        vocab_size=len(tokenizer),
        hidden_size=cfg.dim,
        intermediate_size=2 * cfg.dim,
        num_hidden_layers=cfg.layers,
        num_attention_heads=cfg.heads,
        num_key_value_heads=cfg.heads,
        max_position_embeddings=cfg.max_len,
        tie_word_embeddings=True,
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
    )
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(cfg.seed)
        model = LlamaForCausalLM(config)
    out.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(out)
    tokenizer.save_pretrained(out)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--kind", choices=["bpe", "byte"], default="bpe")
    parser.add_argument("--vocab", type=int, default=8192)
    parser.add_argument("--no-bos", action="store_true")
    args = parser.parse_args()
    cfg = RandomModelConfig(kind=args.kind, vocab_size=args.vocab, bos=not args.no_bos)
    path = build(args.out, cfg)
    print(f"random {cfg.kind} model, vocabulary {cfg.vocab_size}, in {path}")


if __name__ == "__main__":
    main()
