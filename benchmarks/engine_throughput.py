"""Engine throughput: tokens/s of generate (batch 1; n=16 from one prefill) and of score.

    python benchmarks/engine_throughput.py [MODEL_DIR]

Without MODEL_DIR a random ~5M-parameter Llama-style model (vocab 64) is built.
"""

from __future__ import annotations

import string
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from reasoning.backends.hf import HFModel  # noqa: E402
from reasoning.types import SamplingParams  # noqa: E402

PROMPT = "Input: 4 9 10 13\nSteps:\n"


def random_model() -> HFModel:
    from tokenizers import Tokenizer, decoders, models
    from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast

    specials = ["<pad>", "<s>", "</s>", "<unk>"]
    chars = list(string.digits + string.ascii_lowercase + " \n+-*/()=:") + list("ISA")  # 60 chars
    vocab = {t: i for i, t in enumerate(specials + chars)}  # 64 tokens
    tk = Tokenizer(models.BPE(vocab=vocab, merges=[], unk_token="<unk>"))
    tk.decoder = decoders.Fuse()
    tok = PreTrainedTokenizerFast(
        tokenizer_object=tk, bos_token="<s>", eos_token="</s>", pad_token="<pad>", unk_token="<unk>"
    )
    torch.manual_seed(0)
    cfg = LlamaConfig(
        vocab_size=len(tok), hidden_size=256, intermediate_size=768, num_hidden_layers=6,
        num_attention_heads=8, num_key_value_heads=8, max_position_embeddings=1024,
    )
    return HFModel(LlamaForCausalLM(cfg).eval(), tok)


def timed(fn, repeats: int = 3) -> tuple[float, object]:
    fn()  # warm-up
    best, out = float("inf"), None
    for _ in range(repeats):
        t = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t)
    return best, out


def main() -> None:
    lm = HFModel.load(sys.argv[1]) if len(sys.argv) > 1 else random_model()
    params = sum(p.numel() for p in lm.model.parameters())
    print(f"model: {params / 1e6:.2f}M params, torch threads {torch.get_num_threads()}")
    p = SamplingParams(temperature=1.0, max_new_tokens=128)

    def gen(n: int):
        return lm.generate([PROMPT], p, n=n, seed=0)

    for n in (1, 16):
        dt, out = timed(lambda: gen(n))
        toks = sum(c.tokens for row in out for c in row)
        print(f"generate n={n:<2d}  {toks / dt:8.0f} tok/s  ({toks} tokens in {dt:.3f}s)")

    text = ("Input: 4 9 10 13\nSteps:\n13 - 9 = 4 (left: 4 4 10)\n10 - 4 = 6 (left: 4 6)\n4 * 6 = 24\n") * 2
    prompts, conts = [PROMPT] * 16, [text] * 16
    dt, _ = timed(lambda: lm.score(prompts, conts))
    toks = sum(lm.count_tokens(c) + lm.count_tokens(q) + 1 for q, c in zip(prompts, conts))
    print(f"score   B=16  {toks / dt:8.0f} tok/s  ({toks} tokens in {dt:.3f}s)")


if __name__ == "__main__":
    main()
