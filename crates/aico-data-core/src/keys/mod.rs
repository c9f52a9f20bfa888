//! Key hierarchy: master password -> Argon2id -> key-encryption key (KEK) -> unwraps a
//! random 256-bit data-encryption key (DEK) kept in the key file -> HKDF-SHA256 per-store keys.
//!
//! Changing the password rewraps the DEK; no store is re-encrypted. A wrong password is
//! detected by the authenticated unwrap, before any store is opened.

pub mod aead;
pub mod kdf;
pub mod keyfile;
pub mod store_keys;
pub(crate) mod xchacha;

pub use aead::{hmac_sha256, open, seal, KEY_LEN};
pub use kdf::KdfParams;
pub use keyfile::{KeyFile, KEYFILE_NAME};
pub use store_keys::{DataKey, Store, StoreKey};
