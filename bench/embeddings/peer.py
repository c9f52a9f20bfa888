#!/usr/bin/env python3
"""The peer of bench/embeddings: all-MiniLM-L6-v2 run by Hugging Face transformers' Flax BERT
(XLA on the CPU, all cores) with the model's sentence-transformers head (mean pooling, L2), on
the same sentences as aico-data, in the same run.

It does what a careful user of it would: one jit-compiled forward function, batches padded to
the longest sentence rounded up to a multiple of 16 (so XLA compiles a few shapes, not one per
batch), every shape compiled in a warm-up before anything is timed.

  python peer.py MODEL_DIR SENTENCES_JSON ROUNDS     prints one JSON object on stdout
"""
import json
import sys
import time
from pathlib import Path

BASE_RSS = None


def rss_mb():
    for line in Path('/proc/self/status').read_text().splitlines():
        if line.startswith('VmRSS:'):
            return int(line.split()[1]) / 1024
    return float('nan')


import numpy as np  # noqa: E402
import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402
from transformers import BertTokenizerFast, FlaxBertModel  # noqa: E402

BASE_RSS = rss_mb()
model_dir = Path(sys.argv[1])
data = json.loads(Path(sys.argv[2]).read_text())
rounds = int(sys.argv[3])
queries, corpus = data['queries'], data['corpus']
max_len = json.loads((model_dir / 'sentence_bert_config.json').read_text())['max_seq_length']

t0 = time.perf_counter()
tok = BertTokenizerFast.from_pretrained(model_dir)
model = FlaxBertModel.from_pretrained(model_dir, dtype=jnp.float32)
params = model.params


@jax.jit
def encode(ids, mask, types):
    hidden = model(input_ids=ids, attention_mask=mask, token_type_ids=types, params=params).last_hidden_state
    m = mask[..., None].astype(jnp.float32)
    pooled = (hidden * m).sum(axis=1) / jnp.clip(m.sum(axis=1), 1e-9, None)
    return pooled / jnp.clip(jnp.linalg.norm(pooled, axis=1, keepdims=True), 1e-12, None)


def embed(texts):
    enc = tok(texts, padding=False, truncation=True, max_length=max_len)
    longest = max(len(x) for x in enc['input_ids'])
    width = min(max_len, -(-longest // 16) * 16)
    enc = tok(texts, padding='max_length', truncation=True, max_length=width, return_tensors='np')
    return np.asarray(encode(enc['input_ids'], enc['attention_mask'], enc['token_type_ids']))


load_s = time.perf_counter() - t0
batches = [corpus[i:i + 32] for i in range(0, len(corpus), 32)]
# Warm-up: compile every shape the timed runs use.
for b in batches:
    embed(b)
for q in queries:
    embed([q])
model_rss = rss_mb() - BASE_RSS

best32 = 0.0
lat = []
for _ in range(rounds):
    t = time.perf_counter()
    for b in batches:
        embed(b)
    best32 = max(best32, len(corpus) / (time.perf_counter() - t))
    for q in queries:
        t = time.perf_counter()
        embed([q])
        lat.append((time.perf_counter() - t) * 1000)
lat.sort()
print(json.dumps({
    'name': f'transformers {__import__("transformers").__version__} FlaxBert (jax {jax.__version__}, XLA CPU)',
    'loadSeconds': load_s,
    'modelRssMb': model_rss,
    'batch32PerSec': best32,
    'queryP50Ms': lat[len(lat) // 2],
    'queryP95Ms': lat[min(len(lat) - 1, int(len(lat) * 0.95))],
    'queryPerSec': 1000 / (sum(lat) / len(lat)),
    'vector0': embed([corpus[0]])[0].tolist(),
}))
