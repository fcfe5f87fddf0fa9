"""Character-level tokenizer: four special tokens, then one token per printable ASCII character.

Built with the `tokenizers` library and wrapped as a transformers PreTrainedTokenizerFast, so it
saves with save_pretrained and loads with AutoTokenizer.from_pretrained. Encoding adds no special
tokens: callers prepend BOS themselves (the engine and the training loop both do).
"""

from __future__ import annotations

import string

from tokenizers import Tokenizer, decoders, models
from transformers import PreTrainedTokenizerFast

SPECIALS = ("<pad>", "<s>", "</s>", "<unk>")  # ids 0, 1, 2, 3
CHARS = "".join(c for c in string.printable if c not in "\t\r\x0b\x0c")  # 96 chars incl. " " and "\n"


def build_tokenizer() -> PreTrainedTokenizerFast:
    """A fresh character-level tokenizer (vocab: 4 specials + 96 characters = 100)."""
    vocab = {tok: i for i, tok in enumerate(SPECIALS + tuple(CHARS))}
    # BPE with no merges splits text into single characters; no normalizer or pre-tokenizer,
    # so spaces and newlines are tokens like any other; Fuse concatenates on decode.
    core = Tokenizer(models.BPE(vocab=vocab, merges=[], unk_token="<unk>"))
    core.decoder = decoders.Fuse()
    core.add_special_tokens(list(SPECIALS))
    return PreTrainedTokenizerFast(
        tokenizer_object=core,
        bos_token="<s>",
        eos_token="</s>",
        pad_token="<pad>",
        unk_token="<unk>",
        clean_up_tokenization_spaces=False,
    )
