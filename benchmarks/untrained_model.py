"""Write an untrained model with the shipped model's architecture and tokenizer: the control that
shows what constrained sampling finds without any training.

    python benchmarks/untrained_model.py runs/untrained
    reason bench --split test --strategy sc,cot --budget 4s --model runs/untrained --out runs/untrained-bench
"""

from __future__ import annotations

import sys

import torch
from transformers import AutoConfig, AutoModelForCausalLM, AutoTokenizer

from reasoning.cli.models import default_model_dir


def main(out: str) -> None:
    src = default_model_dir()
    tokenizer = AutoTokenizer.from_pretrained(src)
    torch.manual_seed(0)
    model = AutoModelForCausalLM.from_config(AutoConfig.from_pretrained(src))  # fresh weights
    model.save_pretrained(out)
    tokenizer.save_pretrained(out)
    print(f"untrained {sum(p.numel() for p in model.parameters()):,}-parameter model in {out}")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "runs/untrained")
