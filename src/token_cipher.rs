//! Admin API access tokens at rest: AES-256-GCM with a random 96-bit nonce per token and the
//! shop's id as associated data (a ciphertext copied to another shop's row does not decrypt).
//! Each key has an id (the first 8 bytes of its SHA-256, hex) stored next to the ciphertext, so
//! keys rotate: `SHOPRECS_ENCRYPTION_KEY` encrypts, `SHOPRECS_ENCRYPTION_KEY_PREVIOUS` still
//! decrypts, and [`TokenCipher::needs_rotation`] tells the store to re-encrypt.

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use secrecy::{ExposeSecret, SecretString};
use sha2::{Digest, Sha256};

const NONCE_LEN: usize = 12;

struct Key {
    id: String,
    cipher: Aes256Gcm,
}

impl Key {
    fn new(bytes: &[u8; 32]) -> Self {
        let id = hex::encode(&Sha256::digest(bytes)[..8]);
        Self {
            id,
            cipher: Aes256Gcm::new(bytes.into()),
        }
    }
}

/// Encrypts with the current key, decrypts with any key it knows.
pub struct TokenCipher {
    current: Key,
    previous: Vec<Key>,
}

impl std::fmt::Debug for TokenCipher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenCipher")
            .field("key_id", &self.current.id)
            .finish_non_exhaustive()
    }
}

/// A token sealed for one shop.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sealed {
    pub key_id: String,
    pub ciphertext: Vec<u8>,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum CipherError {
    #[error("the token was encrypted with key {0}, which is not configured")]
    UnknownKey(String),
    #[error("the stored token does not decrypt (wrong key or tampered)")]
    Corrupt,
}

impl TokenCipher {
    /// `current` and `previous` are 64 hex characters each (checked by `Secrets::load`).
    pub fn from_hex(current: &str, previous: Option<&str>) -> anyhow::Result<Self> {
        let parse = |hex_key: &str| -> anyhow::Result<Key> {
            let bytes: [u8; 32] = hex::decode(hex_key.trim())
                .ok()
                .and_then(|b| b.try_into().ok())
                .ok_or_else(|| anyhow::anyhow!("an encryption key must be 64 hex characters"))?;
            Ok(Key::new(&bytes))
        };
        Ok(Self {
            current: parse(current)?,
            previous: previous.map(parse).transpose()?.into_iter().collect(),
        })
    }

    /// From the configured secrets.
    pub fn from_secrets(
        key: &SecretString,
        previous: Option<&SecretString>,
    ) -> anyhow::Result<Self> {
        Self::from_hex(key.expose_secret(), previous.map(|p| p.expose_secret()))
    }

    pub fn key_id(&self) -> &str {
        &self.current.id
    }

    pub fn seal(&self, shop_id: i64, token: &SecretString) -> Sealed {
        let nonce: [u8; NONCE_LEN] = rand::random();
        let aad = shop_id.to_be_bytes();
        let body = self
            .current
            .cipher
            .encrypt(
                Nonce::from_slice(&nonce),
                Payload {
                    msg: token.expose_secret().as_bytes(),
                    aad: &aad,
                },
            )
            // AES-GCM encryption fails only for messages of over 64 GiB.
            .unwrap_or_default();
        let mut ciphertext = nonce.to_vec();
        ciphertext.extend_from_slice(&body);
        Sealed {
            key_id: self.current.id.clone(),
            ciphertext,
        }
    }

    pub fn open(&self, shop_id: i64, sealed: &Sealed) -> Result<SecretString, CipherError> {
        let key = std::iter::once(&self.current)
            .chain(&self.previous)
            .find(|k| k.id == sealed.key_id)
            .ok_or_else(|| CipherError::UnknownKey(sealed.key_id.clone()))?;
        if sealed.ciphertext.len() <= NONCE_LEN {
            return Err(CipherError::Corrupt);
        }
        let (nonce, body) = sealed.ciphertext.split_at(NONCE_LEN);
        let aad = shop_id.to_be_bytes();
        let plain = key
            .cipher
            .decrypt(
                Nonce::from_slice(nonce),
                Payload {
                    msg: body,
                    aad: &aad,
                },
            )
            .map_err(|_| CipherError::Corrupt)?;
        String::from_utf8(plain)
            .map(SecretString::from)
            .map_err(|_| CipherError::Corrupt)
    }

    /// Whether a token sealed with `key_id` should be re-sealed with the current key.
    pub fn needs_rotation(&self, key_id: &str) -> bool {
        key_id != self.current.id
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: &str = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";
    const B: &str = "1f1e1d1c1b1a191817161514131211100f0e0d0c0b0a09080706050403020100";

    fn token(s: &str) -> SecretString {
        s.to_owned().into()
    }

    #[test]
    fn a_sealed_token_opens_for_its_shop_only() {
        let cipher = TokenCipher::from_hex(A, None).expect("key");
        let sealed = cipher.seal(7, &token("shpat_secret"));
        assert!(!String::from_utf8_lossy(&sealed.ciphertext).contains("shpat_secret"));
        let opened = cipher.open(7, &sealed).expect("opens");
        assert_eq!(opened.expose_secret(), "shpat_secret");
        assert!(matches!(cipher.open(8, &sealed), Err(CipherError::Corrupt)));
    }

    #[test]
    fn the_same_token_seals_differently_each_time() {
        let cipher = TokenCipher::from_hex(A, None).expect("key");
        let one = cipher.seal(1, &token("t"));
        let two = cipher.seal(1, &token("t"));
        assert_ne!(one.ciphertext, two.ciphertext);
    }

    #[test]
    fn a_tampered_ciphertext_is_refused() {
        let cipher = TokenCipher::from_hex(A, None).expect("key");
        let mut sealed = cipher.seal(1, &token("shpat_x"));
        let last = sealed.ciphertext.len() - 1;
        sealed.ciphertext[last] ^= 1;
        assert!(matches!(cipher.open(1, &sealed), Err(CipherError::Corrupt)));
    }

    #[test]
    fn a_rotated_key_still_opens_old_tokens_and_asks_for_resealing() {
        let old = TokenCipher::from_hex(A, None).expect("key");
        let sealed = old.seal(3, &token("shpat_old"));
        let rotated = TokenCipher::from_hex(B, Some(A)).expect("keys");
        assert!(rotated.needs_rotation(&sealed.key_id));
        assert_eq!(
            rotated.open(3, &sealed).expect("opens").expose_secret(),
            "shpat_old"
        );
        let without_old = TokenCipher::from_hex(B, None).expect("key");
        assert!(matches!(
            without_old.open(3, &sealed),
            Err(CipherError::UnknownKey(_))
        ));
    }
}
