#!/usr/bin/env python3
"""Writes __test__/fixtures/minilm-reference.json: token ids and sentence embeddings of
all-MiniLM-L6-v2 for a fixed set of sentences, computed by reference implementations, for the
Rust core's faithful-output test (crates/aico-data-core/src/embed/reference_test.rs) and the
binding's (__test__/vectors/minilm-embedder.test.ts).

Reference: Hugging Face `tokenizers` (the fast tokenizer sentence-transformers uses, built from
the model's tokenizer.json) and Hugging Face `transformers`' BERT (its Flax implementation on the
CPU: the PyTorch one needs torch, whose PyPI wheels pull in gigabytes of CUDA libraries), then the
model's sentence-transformers head as its files declare it (1_Pooling: mean over the attention
mask; 2_Normalize: L2), at max_seq_length 256 (sentence_bert_config.json).

Run through scripts/model/reference-vectors.mjs, which makes the virtualenv and fetches the model.
"""
import json
import random
import sys
from pathlib import Path

import numpy as np
import jax
import tokenizers
import transformers
from transformers import BertTokenizerFast, FlaxBertModel

jax.config.update('jax_default_matmul_precision', 'highest')

model_dir = Path(sys.argv[1])
out_path = Path(sys.argv[2])

SENTENCES = [
    # English, short and long
    'Ada loves green tea.',
    'What should I offer her to drink?',
    'The quick brown fox jumps over the lazy dog.',
    'I moved to Lisbon in March and started learning Portuguese.',
    'My sister Clara is allergic to peanuts, so we never cook with them.',
    'Remind me to call the dentist on Thursday afternoon.',
    'He has been working as a nurse at the children\'s hospital for twelve years.',
    'Unaffable unbelievably antidisestablishmentarianism',
    'The meeting was postponed because the projector broke.',
    'She prefers hiking in the mountains to lying on a beach.',
    'Do you remember the name of the restaurant we went to last summer?',
    'i think my cat is sick, she hasn\'t eaten since yesterday',
    'BERT uses WordPiece tokenization with a 30,522-piece vocabulary.',
    'The stock price rose 3.5% to $142.17 on Tuesday.',
    'Email me at ada.lovelace@example.com or call +44 20 7946 0958.',
    'https://example.org/path?query=1&lang=en#section',
    'C++ and Rust both have zero-cost abstractions; Python does not.',
    'ALL CAPS SENTENCE SHOUTING ABOUT THE WEATHER!!!',
    '   leading and trailing whitespace   ',
    'tabs\tand\nnewlines\r\nin one text',
    # German, French, Spanish, Italian, Portuguese, Dutch, Polish, Turkish
    'Ich trinke am liebsten grünen Tee mit Honig.',
    'Die Straße ist nass, weil es die ganze Nacht geregnet hat.',
    'Größenwahnsinnige Donaudampfschifffahrtsgesellschaftskapitäne',
    'Je voudrais un café crème et un croissant, s\'il vous plaît.',
    'Où est la bibliothèque la plus proche ?',
    'L\'été dernier, nous sommes allés à Noël… non, à Pâques.',
    '¿Dónde está la estación de tren? ¡Necesito llegar pronto!',
    'El niño comió una manzana y después se durmió en el sofá.',
    'La mia nonna prepara il tiramisù ogni domenica.',
    'A coração não envelhece, só a pele.',
    'Het regent al de hele week in Amsterdam.',
    'Zażółć gęślą jaźń.',
    'İstanbul\'da ılık bir akşam, çay ve simit.',
    # Greek, Russian, Arabic, Hebrew, Hindi, Thai, Korean
    'Η γάτα κοιμάται στον καναπέ.',
    'Москва — столица России, а Ёлки растут в лесу.',
    'أحب شرب الشاي الأخضر في الصباح',
    'אני אוהב לשתות תה ירוק',
    'मुझे हरी चाय पसंद है।',
    'ฉันชอบดื่มชาเขียว',
    '나는 녹차를 좋아해요.',
    # Chinese, Japanese
    '我喜欢喝绿茶。',
    '今天天气很好，我们去公园散步吧！',
    '東京は日本の首都です。',
    'ひらがなとカタカナ、そして漢字を混ぜた文章です。',
    'ｆｕｌｌｗｉｄｔｈ　ＡＳＣＩＩ　１２３',
    # emoji, symbols, punctuation, odd input
    'I love pizza 🍕🍕 and sushi 🍣!',
    '👍🏽 👨‍👩‍👧 ❤️ 🥰',
    '!!! ??? ... ;;; --- ***',
    '¡¿«»„“”‚‘’‹›—–…',
    '#hashtag @mention $cashtag %percent ^caret &amp;',
    '∑ ∫ √ π ≈ ≠ ≤ ≥ ∞ → ⇒ © ® ™ °C',
    '\u200bzero\u200bwidth\u200bspaces and soft\u00adhyphen',
    'control\u0007bell\u0000nul\ufffdreplacement',
    'a',
    '.',
    ' ',
    '',
    '1234567890',
    'x' * 150,
    'supercalifragilisticexpialidocious' * 3,
    # longer than 256 word pieces (truncated)
    ' '.join(['The companion remembers every conversation about tea, travel and family.'] * 30),
    'Beim Frühstück erzählte Ada von ihrer Reise nach Kyōto, wo sie 抹茶 probiert hatte. ' * 20,
    '，'.join(['长文本测试'] * 80),
]

tok = BertTokenizerFast.from_pretrained(model_dir)
model = FlaxBertModel.from_pretrained(model_dir, dtype=np.float32)

max_len = json.loads((model_dir / 'sentence_bert_config.json').read_text())['max_seq_length']
pooling = json.loads((model_dir / '1_Pooling' / 'config.json').read_text())
assert pooling['pooling_mode_mean_tokens'] and not pooling['pooling_mode_cls_token'], pooling
modules = [m['type'] for m in json.loads((model_dir / 'modules.json').read_text())]
assert modules[-1].endswith('Normalize'), modules

records = []
for text in SENTENCES:
    # One sentence per call: no padding, so nothing depends on batch composition.
    enc = tok([text], padding=False, truncation=True, max_length=max_len, return_tensors='np')
    hidden = np.asarray(model(input_ids=enc['input_ids'], attention_mask=enc['attention_mask'],
                              token_type_ids=enc['token_type_ids']).last_hidden_state, dtype=np.float64)
    mask = enc['attention_mask'][..., None].astype(np.float64)
    pooled = (hidden * mask).sum(axis=1) / np.clip(mask.sum(axis=1), 1e-9, None)
    vec = pooled[0] / max(np.linalg.norm(pooled[0]), 1e-12)
    records.append({'text': text, 'ids': enc['input_ids'][0].tolist(), 'vector': [float(f'{v:.7g}') for v in vec]})

# Token ids only, for seeded random strings over many scripts, combining marks, control and
# private-use characters, CJK extensions, full-width forms and emoji: the tokenizer's tables.
POOLS = [(0x20, 0x7f), (0xa0, 0x250), (0x300, 0x370), (0x370, 0x500), (0x590, 0x700), (0x900, 0x980),
         (0xe00, 0xe80), (0x1100, 0x1200), (0x2000, 0x2070), (0x3000, 0x3100), (0x4e00, 0x4f00),
         (0xac00, 0xad00), (0xf900, 0xfb00), (0xff00, 0xfff0), (0x1f300, 0x1f700), (0x2b800, 0x2b9ff),
         (0x0, 0x20), (0xfe00, 0xfe10), (0xe000, 0xe010)]
PIECES = [' ', 'e', 'the ', 'ing', '##', '\u0301', 'Ü']
rng = random.Random(19)
fuzz = []
for _ in range(400):
    text = ''.join(chr(rng.randrange(*rng.choice(POOLS))) if rng.random() < 0.6 else rng.choice(PIECES)
                   for _ in range(rng.randint(0, 60)))
    fuzz.append({'text': text, 'ids': tok(text, truncation=True, max_length=max_len)['input_ids']})

out = {
    'model': 'all-MiniLM-L6-v2',
    'maxTokens': max_len,
    'producedBy': 'scripts/model/reference-vectors.py',
    'reference': f'tokenizers {tokenizers.__version__} (tokenizer.json), transformers {transformers.__version__} '
                 f'FlaxBertModel on jax {jax.__version__} (CPU, float32, highest matmul precision); '
                 'mean pooling over the attention mask, L2 normalisation',
    'sentences': records,
    'tokenizerOnly': fuzz,
}
out_path.parent.mkdir(parents=True, exist_ok=True)
out_path.write_text(json.dumps(out, ensure_ascii=False, separators=(',', ':')) + '\n')
lengths = [len(r['ids']) for r in records]
print(f'wrote {out_path}: {len(records)} sentences, {min(lengths)}..{max(lengths)} tokens; {len(fuzz)} tokenizer-only strings')
