//! The safetensors format, read by hand: an 8-byte little-endian header length, a JSON header
//! `{name: {dtype, shape, data_offsets: [begin, end]}, "__metadata__": {...}}`, then the raw
//! little-endian tensor bytes, offsets relative to the end of the header.
//!
//! The file is untrusted input: the header length, every offset and every shape product is
//! checked (with checked arithmetic) against the data actually present before any byte is read,
//! and a tensor's byte length must equal its shape times its element size.

use std::collections::BTreeMap;

use super::json::{self, Json};
use crate::{Error, Result};

/// The format's own bound on the header (100 MB); real headers are a few KB.
const MAX_HEADER: u64 = 100_000_000;
const MAX_RANK: usize = 8;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Dtype {
    F32,
    F16,
    BF16,
    /// Any other dtype: kept so that its bounds are checked, but not readable as f32.
    Other(usize),
}

impl Dtype {
    fn parse(s: &str) -> Result<Dtype> {
        Ok(match s {
            "F32" => Dtype::F32,
            "F16" => Dtype::F16,
            "BF16" => Dtype::BF16,
            "F64" | "I64" | "U64" => Dtype::Other(8),
            "I32" | "U32" => Dtype::Other(4),
            "I16" | "U16" => Dtype::Other(2),
            "I8" | "U8" | "BOOL" | "F8_E4M3" | "F8_E5M2" => Dtype::Other(1),
            _ => return Err(Error::Corrupt(format!("safetensors: unknown dtype {s:?}"))),
        })
    }

    fn size(self) -> usize {
        match self {
            Dtype::F32 => 4,
            Dtype::F16 | Dtype::BF16 => 2,
            Dtype::Other(n) => n,
        }
    }
}

#[derive(Debug)]
pub(crate) struct TensorInfo {
    pub dtype: Dtype,
    pub shape: Vec<usize>,
    /// Absolute byte range in the file, checked to lie inside it.
    range: std::ops::Range<usize>,
}

/// A parsed safetensors file over its bytes.
pub(crate) struct SafeTensors<'a> {
    bytes: &'a [u8],
    tensors: BTreeMap<String, TensorInfo>,
}

fn corrupt(msg: impl std::fmt::Display) -> Error {
    Error::Corrupt(format!("safetensors: {msg}"))
}

impl<'a> SafeTensors<'a> {
    pub(crate) fn parse(bytes: &'a [u8]) -> Result<SafeTensors<'a>> {
        let len_bytes: [u8; 8] =
            bytes.get(..8).and_then(|b| b.try_into().ok()).ok_or_else(|| corrupt("shorter than its 8-byte header length"))?;
        let header_len = u64::from_le_bytes(len_bytes);
        if header_len > MAX_HEADER || header_len > (bytes.len() - 8) as u64 {
            return Err(corrupt(format!("header length {header_len} exceeds the file ({} bytes) or the format's limit", bytes.len())));
        }
        let data_start = 8 + header_len as usize;
        let header = std::str::from_utf8(&bytes[8..data_start]).map_err(|_| corrupt("the header is not UTF-8"))?;
        let header = json::parse(header.trim_end()).map_err(|e| corrupt(format!("the header is not JSON: {e}")))?;
        let entries = header.as_object().ok_or_else(|| corrupt("the header is not an object"))?;
        let data_len = bytes.len() - data_start;
        let mut tensors = BTreeMap::new();
        for (name, v) in entries {
            if name == "__metadata__" {
                continue;
            }
            let info = Self::entry(name, v, data_start, data_len)?;
            tensors.insert(name.clone(), info);
        }
        Ok(SafeTensors { bytes, tensors })
    }

    fn entry(name: &str, v: &Json, data_start: usize, data_len: usize) -> Result<TensorInfo> {
        let bad = |what: &str| corrupt(format!("tensor {name:?}: {what}"));
        let dtype = Dtype::parse(v.get("dtype").and_then(Json::as_str).ok_or_else(|| bad("no dtype"))?)?;
        let shape_json = v.get("shape").and_then(Json::as_array).ok_or_else(|| bad("no shape"))?;
        if shape_json.len() > MAX_RANK {
            return Err(bad("too many dimensions"));
        }
        let shape = shape_json
            .iter()
            .map(|d| d.as_u64().and_then(|d| usize::try_from(d).ok()).ok_or_else(|| bad("a dimension is not a non-negative integer")))
            .collect::<Result<Vec<usize>>>()?;
        let offsets = v.get("data_offsets").and_then(Json::as_array).ok_or_else(|| bad("no data_offsets"))?;
        let [begin, end] = offsets else { return Err(bad("data_offsets is not [begin, end]")) };
        let (begin, end) = match (begin.as_u64(), end.as_u64()) {
            (Some(b), Some(e)) if b <= e && e <= data_len as u64 => (b as usize, e as usize),
            _ => return Err(bad("data_offsets lie outside the data")),
        };
        let bytes = shape.iter().try_fold(dtype.size(), |acc, &d| acc.checked_mul(d)).ok_or_else(|| bad("the shape overflows"))?;
        if bytes != end - begin {
            return Err(bad(&format!("{} bytes of data for a shape of {bytes} bytes", end - begin)));
        }
        Ok(TensorInfo { dtype, shape, range: data_start + begin..data_start + end })
    }

    pub(crate) fn info(&self, name: &str) -> Option<&TensorInfo> {
        self.tensors.get(name)
    }

    /// The tensor `name` as f32 values, checked to have exactly `shape`.
    pub(crate) fn f32(&self, name: &str, shape: &[usize]) -> Result<Vec<f32>> {
        let t = self.info(name).ok_or_else(|| corrupt(format!("no tensor {name:?}")))?;
        if t.shape != shape {
            return Err(corrupt(format!("tensor {name:?} has shape {:?}, expected {shape:?}", t.shape)));
        }
        let raw = &self.bytes[t.range.clone()];
        Ok(match t.dtype {
            Dtype::F32 => raw.chunks_exact(4).map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]])).collect(),
            Dtype::F16 => raw.chunks_exact(2).map(|b| f16_to_f32(u16::from_le_bytes([b[0], b[1]]))).collect(),
            Dtype::BF16 => raw.chunks_exact(2).map(|b| f32::from_bits((u16::from_le_bytes([b[0], b[1]]) as u32) << 16)).collect(),
            Dtype::Other(_) => return Err(corrupt(format!("tensor {name:?} is not a floating-point tensor"))),
        })
    }
}

/// IEEE half -> single, exactly (subnormals, infinities and NaN included).
fn f16_to_f32(h: u16) -> f32 {
    let sign = ((h as u32) & 0x8000) << 16;
    let exp = ((h >> 10) & 0x1f) as u32;
    let man = (h & 0x3ff) as u32;
    let bits = match exp {
        0 if man == 0 => sign,
        0 => {
            // Subnormal: value = man * 2^-24.
            let v = man as f32 * f32::from_bits(0x3380_0000);
            return if sign != 0 { -v } else { v };
        }
        0x1f => sign | 0x7f80_0000 | (man << 13),
        _ => sign | ((exp + 112) << 23) | (man << 13),
    };
    f32::from_bits(bits)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A safetensors file with the given header JSON and data bytes.
    pub(crate) fn file(header: &str, data: &[u8]) -> Vec<u8> {
        let mut out = (header.len() as u64).to_le_bytes().to_vec();
        out.extend_from_slice(header.as_bytes());
        out.extend_from_slice(data);
        out
    }

    #[test]
    fn reads_f32_f16_and_bf16_tensors() {
        let mut data = Vec::new();
        for v in [1.0f32, -2.5] {
            data.extend_from_slice(&v.to_le_bytes());
        }
        data.extend_from_slice(&0x3c00u16.to_le_bytes()); // f16 1.0
        data.extend_from_slice(&0xc000u16.to_le_bytes()); // f16 -2.0
        data.extend_from_slice(&0x3f80u16.to_le_bytes()); // bf16 1.0
        let h = r#"{"__metadata__":{"format":"pt"},"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F16","shape":[1,2],"data_offsets":[8,12]},"c":{"dtype":"BF16","shape":[1],"data_offsets":[12,14]}}"#;
        let bytes = file(h, &data);
        let st = SafeTensors::parse(&bytes).unwrap();
        assert_eq!(st.f32("a", &[2]).unwrap(), vec![1.0, -2.5]);
        assert_eq!(st.f32("b", &[1, 2]).unwrap(), vec![1.0, -2.0]);
        assert_eq!(st.f32("c", &[1]).unwrap(), vec![1.0]);
        assert_eq!(st.f32("a", &[1, 2]).unwrap_err().code(), "CORRUPT");
        assert_eq!(st.f32("zzz", &[2]).unwrap_err().code(), "CORRUPT");
    }

    #[test]
    fn f16_conversion_covers_special_values() {
        assert_eq!(f16_to_f32(0x0001), 2f32.powi(-24));
        assert_eq!(f16_to_f32(0x7c00), f32::INFINITY);
        assert!(f16_to_f32(0x7e00).is_nan());
        assert_eq!(f16_to_f32(0x8000).to_bits(), (-0.0f32).to_bits());
        assert_eq!(f16_to_f32(0x3555), 0.333_251_95);
    }

    #[test]
    fn refuses_out_of_bounds_and_inconsistent_headers() {
        let data = [0u8; 8];
        let cases = [
            r#"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,16]}}"#,
            r#"{"a":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}"#,
            r#"{"a":{"dtype":"F32","shape":[2],"data_offsets":[8,0]}}"#,
            r#"{"a":{"dtype":"F32","shape":[4294967296,4294967296,4294967296],"data_offsets":[0,8]}}"#,
            r#"{"a":{"dtype":"Q4","shape":[2],"data_offsets":[0,8]}}"#,
            r#"{"a":{"dtype":"F32","shape":[-2],"data_offsets":[0,8]}}"#,
            r#"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0]}}"#,
            r#"[1,2]"#,
            r#"{"a":"#,
        ];
        for h in cases {
            assert_eq!(SafeTensors::parse(&file(h, &data)).err().map(|e| e.code()), Some("CORRUPT"), "{h}");
        }
        let mut huge = u64::MAX.to_le_bytes().to_vec();
        huge.extend_from_slice(b"{}");
        assert_eq!(SafeTensors::parse(&huge).err().map(|e| e.code()), Some("CORRUPT"));
        assert_eq!(SafeTensors::parse(&[1, 2, 3]).err().map(|e| e.code()), Some("CORRUPT"));
    }
}
