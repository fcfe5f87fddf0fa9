import string

from transformers import AutoTokenizer

from training.tokenizer import CHARS, SPECIALS, build_tokenizer

TEXT = "Input: 4 9 10 13\nSteps:\n13 - 9 = 4 (left: 4 4 10)\n\n  double  spaces , . 's ?\n" + CHARS


def test_vocab_and_special_ids():
    tok = build_tokenizer()
    assert len(tok) == len(SPECIALS) + len(CHARS) == 100
    assert (tok.pad_token_id, tok.bos_token_id, tok.eos_token_id, tok.unk_token_id) == (0, 1, 2, 3)
    assert set(CHARS) == set(string.printable) - set("\t\r\x0b\x0c")


def test_round_trip_one_token_per_character():
    tok = build_tokenizer()
    ids = tok.encode(TEXT)
    assert len(ids) == len(TEXT)  # no special tokens added, one token per character
    assert tok.decode(ids) == TEXT
    assert tok(TEXT)["input_ids"] == ids
    assert tok.decode([tok.bos_token_id, *ids, tok.eos_token_id], skip_special_tokens=True) == TEXT
    assert tok.encode("\u00e9") == [tok.unk_token_id]


def test_save_and_load(tmp_path):
    tok = build_tokenizer()
    tok.save_pretrained(tmp_path)
    loaded = AutoTokenizer.from_pretrained(tmp_path)
    assert loaded.encode(TEXT) == tok.encode(TEXT)
    assert loaded.decode(tok.encode(TEXT)) == TEXT
    assert (loaded.pad_token_id, loaded.bos_token_id, loaded.eos_token_id) == (0, 1, 2)
