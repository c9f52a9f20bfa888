//! The BERT normalizer and pre-tokenizer of an uncased model, one character at a time:
//! clean text (drop control characters, whitespace becomes a space), put spaces around CJK
//! ideographs, strip accents (NFD without non-spacing marks), lowercase; then words end at
//! whitespace and every punctuation character is a word of its own.
//!
//! Every step is local to one input character, so normalising a character and streaming the
//! result into the word splitter equals the reference's whole-string passes, in the reference's
//! order (Hugging Face `tokenizers`' BertNormalizer: clean, CJK, accents, lowercase). The tables
//! are read off that tokenizer (`unicode_tables.rs`).

use super::unicode_tables::{CHINESE, DECOMPOSED, LOWERCASE, MARKS, PUNCTUATION, REMOVED, SPACES};

fn in_ranges(table: &[(u32, u32)], c: char) -> bool {
    let cp = c as u32;
    table
        .binary_search_by(|&(lo, hi)| {
            if hi < cp {
                std::cmp::Ordering::Less
            } else if lo > cp {
                std::cmp::Ordering::Greater
            } else {
                std::cmp::Ordering::Equal
            }
        })
        .is_ok()
}

fn mapped(table: &[(u32, &'static str)], c: char) -> Option<&'static str> {
    table.binary_search_by_key(&(c as u32), |&(cp, _)| cp).ok().map(|i| table[i].1)
}

/// Whether the pre-tokenizer splits `c` off as a word of its own.
pub(crate) fn is_punctuation(c: char) -> bool {
    in_ranges(PUNCTUATION, c)
}

/// Whether the pre-tokenizer ends a word at `c` (and drops it).
pub(crate) fn is_whitespace(c: char) -> bool {
    c == ' ' || c.is_whitespace()
}

/// Hangul syllables decompose by the Unicode algorithm (no table needed).
fn hangul(c: char, out: &mut impl FnMut(char)) -> bool {
    const S_BASE: u32 = 0xAC00;
    let cp = c as u32;
    if !(S_BASE..S_BASE + 11_172).contains(&cp) {
        return false;
    }
    let s = cp - S_BASE;
    // In range by construction: the results are Hangul Jamo code points.
    for j in [0x1100 + s / 588, 0x1161 + (s % 588) / 28] {
        out(char::from_u32(j).unwrap_or(c));
    }
    if !s.is_multiple_of(28) {
        out(char::from_u32(0x11A7 + s % 28).unwrap_or(c));
    }
    true
}

fn lowercase(c: char, out: &mut impl FnMut(char)) {
    match mapped(LOWERCASE, c) {
        Some(s) => s.chars().for_each(out),
        None => out(c),
    }
}

/// Strips accents from `c`, then lowercases: what the reference does after clean/CJK.
fn accents_then_lower(c: char, out: &mut impl FnMut(char)) {
    let mut lower = |d: char| lowercase(d, out);
    if hangul(c, &mut lower) {
        return;
    }
    if let Some(s) = mapped(DECOMPOSED, c) {
        s.chars().for_each(lower);
    } else if !in_ranges(MARKS, c) {
        lower(c);
    }
}

/// Feeds the normalised form of `c` (zero or more characters) to `out`.
pub(crate) fn normalize_char(c: char, out: &mut impl FnMut(char)) {
    if in_ranges(REMOVED, c) {
        return;
    }
    if in_ranges(SPACES, c) {
        return out(' ');
    }
    if in_ranges(CHINESE, c) {
        out(' ');
        accents_then_lower(c, out);
        return out(' ');
    }
    accents_then_lower(c, out);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn norm(s: &str) -> String {
        let mut o = String::new();
        for c in s.chars() {
            normalize_char(c, &mut |d| o.push(d));
        }
        o
    }

    #[test]
    fn cleans_strips_accents_and_lowercases() {
        assert_eq!(norm("Crème Brûlée\u{0}\u{200b}!"), "creme brulee!");
        assert_eq!(norm("a\tb\u{a0}c"), "a b c");
        assert_eq!(norm("İSTANBUL"), "istanbul");
        assert_eq!(norm("中文"), " 中  文 ");
        assert_eq!(norm("한"), "\u{1112}\u{1161}\u{11ab}");
    }

    #[test]
    fn classifies_punctuation_and_whitespace() {
        for c in ['!', '$', '^', '`', '~', '。', '¿', '—'] {
            assert!(is_punctuation(c), "{c:?}");
        }
        for c in ['a', 'é', '中', '7', ' '] {
            assert!(!is_punctuation(c), "{c:?}");
        }
        assert!(is_whitespace(' ') && is_whitespace('\n') && !is_whitespace('x'));
    }
}
