//! The BERT WordPiece tokenizer (uncased): normalised words (`normalize.rs`) are split greedily
//! into the longest vocabulary pieces, continuations prefixed `##`; a word with no split, or
//! longer than 100 characters, is `[UNK]`. Output is `[CLS] pieces [SEP]`, truncated to the
//! model's maximum sequence length by dropping pieces at the end (the reference's truncation).
//!
//! Normalisation is streamed and stops once the budget of pieces is full, so a huge text costs
//! no more than its first few hundred words.

use std::collections::HashMap;

use super::normalize::{is_punctuation, is_whitespace, normalize_char};
use crate::{Error, Result};

/// Longer words are `[UNK]` without trying to split them (the reference's limit).
const MAX_WORD_CHARS: usize = 100;
/// Bounds what a vocabulary file may hold (BERT's has 30,522 lines).
const MAX_VOCAB: usize = 1_000_000;
const MAX_PIECE_BYTES: usize = 256;

pub(crate) struct WordPiece {
    ids: HashMap<String, u32>,
    cls: u32,
    sep: u32,
    unk: u32,
}

impl WordPiece {
    /// Reads a `vocab.txt` (one piece per line, id = line number). A malformed file is `CORRUPT`.
    pub(crate) fn from_vocab(text: &str) -> Result<WordPiece> {
        let mut ids = HashMap::new();
        for (i, line) in text.lines().enumerate() {
            if i >= MAX_VOCAB {
                return Err(Error::Corrupt(format!("vocab.txt has more than {MAX_VOCAB} entries")));
            }
            let piece = line.strip_suffix('\r').unwrap_or(line);
            if piece.is_empty() || piece.len() > MAX_PIECE_BYTES {
                return Err(Error::Corrupt(format!("vocab.txt line {}: empty or longer than {MAX_PIECE_BYTES} bytes", i + 1)));
            }
            if ids.insert(piece.to_string(), i as u32).is_some() {
                return Err(Error::Corrupt(format!("vocab.txt line {}: {piece:?} is listed twice", i + 1)));
            }
        }
        let special = |t: &str| ids.get(t).copied().ok_or_else(|| Error::Corrupt(format!("vocab.txt has no {t} token")));
        Ok(WordPiece { cls: special("[CLS]")?, sep: special("[SEP]")?, unk: special("[UNK]")?, ids })
    }

    /// Number of pieces in the vocabulary (ids are below it).
    pub(crate) fn len(&self) -> usize {
        self.ids.len()
    }

    /// `[CLS] pieces [SEP]` of `text`, at most `max_len` ids (`max_len` >= 2).
    pub(crate) fn encode(&self, text: &str, max_len: usize) -> Vec<u32> {
        let budget = max_len.saturating_sub(2);
        let mut ids = Vec::with_capacity(budget.min(64) + 2);
        ids.push(self.cls);
        let mut word = String::new();
        let mut key = String::new();
        let mut full = false;
        let mut feed = |c: char, ids: &mut Vec<u32>, word: &mut String| {
            if is_whitespace(c) || is_punctuation(c) {
                self.split_word(word, &mut key, ids);
                word.clear();
                if !is_whitespace(c) {
                    word.push(c);
                    self.split_word(word, &mut key, ids);
                    word.clear();
                }
            } else {
                word.push(c);
            }
        };
        for c in text.chars() {
            normalize_char(c, &mut |d| feed(d, &mut ids, &mut word));
            // A word may still be growing: only whole words count towards the budget check.
            if ids.len() > budget {
                full = true;
                break;
            }
        }
        if !full {
            self.split_word(&word, &mut key, &mut ids);
        }
        ids.truncate(budget + 1);
        ids.push(self.sep);
        ids
    }

    /// Greedy longest-match-first split of one word into `ids`.
    fn split_word(&self, word: &str, key: &mut String, ids: &mut Vec<u32>) {
        if word.is_empty() {
            return;
        }
        if word.chars().count() > MAX_WORD_CHARS {
            ids.push(self.unk);
            return;
        }
        let mark = ids.len();
        let mut start = 0;
        while start < word.len() {
            let mut end = word.len();
            let mut found = None;
            while start < end {
                key.clear();
                if start > 0 {
                    key.push_str("##");
                }
                key.push_str(&word[start..end]);
                if let Some(&id) = self.ids.get(key.as_str()) {
                    found = Some(id);
                    break;
                }
                // Step back one character (not one byte).
                end = word[..end].char_indices().next_back().map_or(start, |(i, _)| i);
            }
            match found {
                Some(id) => {
                    ids.push(id);
                    start = end;
                }
                None => {
                    ids.truncate(mark);
                    ids.push(self.unk);
                    return;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vocab() -> WordPiece {
        let words = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "un", "##aff", "##able", "hello", "!", "a", "##b", "中"];
        WordPiece::from_vocab(&words.join("\n")).unwrap()
    }

    #[test]
    fn splits_greedily_and_marks_unknown_words() {
        let v = vocab();
        assert_eq!(v.encode("Unaffable hello!", 16), vec![2, 4, 5, 6, 7, 8, 3]);
        assert_eq!(v.encode("unx 中", 16), vec![2, 1, 11, 3]);
        assert_eq!(v.encode(&"ab".repeat(51), 16), vec![2, 1, 3], "a word over 100 characters is [UNK]");
        assert_eq!(v.encode(" \u{0} ", 16), vec![2, 3]);
    }

    #[test]
    fn truncates_to_the_budget_including_cls_and_sep() {
        let v = vocab();
        let ids = v.encode(&"unaffable ".repeat(100), 8);
        assert_eq!(ids, vec![2, 4, 5, 6, 4, 5, 6, 3]);
        let ids = v.encode(&"hello ".repeat(100_000), 256);
        assert_eq!(ids.len(), 256);
    }

    #[test]
    fn refuses_a_bad_vocabulary() {
        for bad in ["[CLS]\n[SEP]", "[CLS]\n[SEP]\n[UNK]\n\nx", "[CLS]\n[SEP]\n[UNK]\n[UNK]"] {
            assert_eq!(WordPiece::from_vocab(bad).err().map(|e| e.code()), Some("CORRUPT"), "{bad:?}");
        }
    }
}
