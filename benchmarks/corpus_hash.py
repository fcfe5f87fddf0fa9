"""Rebuild the pretrain and sft corpora and hash them the way training/loop.py's Rows.sha256 does
(token ids and loss mask of every row): how the shipped model's train_log.json got its corpus
hashes, since it was trained before training logs recorded them. Run it in a checkout of the
commit that trained the model, with the model's tokenizer:

    git worktree add /tmp/old 23899c7 && cd /tmp/old
    python /path/to/benchmarks/corpus_hash.py /path/to/reasoning/checkpoints/default
"""
import hashlib, json, sys, time
from tasks import Game24
from training import corpus, loop, pretrain, sft
from transformers import AutoTokenizer
t0 = time.time()
task = Game24()
tok = AutoTokenizer.from_pretrained(sys.argv[1])
def sha(rows):
    h = hashlib.sha256()
    for ids, mask in zip(rows.ids, rows.mask):
        h.update(ids.numpy().tobytes()); h.update(mask.numpy().tobytes())
    return h.hexdigest()
out = {}
for name, mod in (("pretrain", pretrain), ("sft", sft)):
    cfg = mod.StageConfig()
    if name == "pretrain":
        docs = corpus.pretrain_documents(task, cfg.corpus, cfg.seed)
        seqs = tok(docs, add_special_tokens=False)["input_ids"]
        rows = loop.packed(seqs, cfg.seq_len, tok.bos_token_id, tok.pad_token_id)
        out[name] = {"documents": len(docs), "characters": sum(map(len, docs)), "rows": len(rows), "corpus_sha256": sha(rows)}
    else:
        pairs = corpus.sft_pairs(task, cfg.corpus, cfg.seed)
        enc = lambda texts: tok(texts, add_special_tokens=False)["input_ids"]
        rows = loop.examples(list(zip(enc([p for p, _ in pairs]), enc([r for _, r in pairs]))), cfg.seq_len, tok.bos_token_id, tok.pad_token_id)
        out[name] = {"pairs": len(pairs), "characters": sum(len(p) + len(r) for p, r in pairs), "rows": len(rows), "corpus_sha256": sha(rows)}
print(json.dumps(out), f"{time.time()-t0:.0f}s")
