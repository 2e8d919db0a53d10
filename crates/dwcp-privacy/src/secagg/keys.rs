//! The cryptographic building blocks of secure aggregation: X25519 key
//! agreement, domain-separated key derivation (SHA-256), authenticated
//! encryption of key shares (ChaCha20-Poly1305), and mask expansion with
//! the ChaCha20 stream of `rand_chacha`.

use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{ChaCha20Poly1305, Key, Nonce};
use dwcp_core::NodeId;
use dwcp_core::rng::{Rng, RngCore, SeedableRng};
use sha2::{Digest as _, Sha256};
use x25519_dalek::{PublicKey as XPublic, StaticSecret};

/// An X25519 key pair generated from the engine's seeded RNG.
pub struct KeyPair {
    /// The secret scalar (zeroised on drop by x25519-dalek).
    pub secret: StaticSecret,
    /// Its public point, as sent in the advertisement.
    pub public: [u8; 32],
}

impl KeyPair {
    /// A fresh key pair from `rng`.
    pub fn generate(rng: &mut impl RngCore) -> KeyPair {
        let mut bytes = [0u8; 32];
        rng.fill_bytes(&mut bytes);
        KeyPair::from_secret_bytes(bytes)
    }

    /// The key pair of a 32-byte secret (as recovered from Shamir shares).
    pub fn from_secret_bytes(bytes: [u8; 32]) -> KeyPair {
        let secret = StaticSecret::from(bytes);
        let public = XPublic::from(&secret).to_bytes();
        KeyPair { secret, public }
    }
}

/// The X25519 shared secret with `peer`, or `None` if the peer's point has
/// small order (the result would not depend on our secret).
pub fn agree(secret: &StaticSecret, peer: &[u8; 32]) -> Option<[u8; 32]> {
    let shared = secret.diffie_hellman(&XPublic::from(*peer));
    shared.was_contributory().then(|| shared.to_bytes())
}

/// Whether `pk` is a usable X25519 public key: not of small order (a
/// small-order point would make every agreement with it independent of the
/// secret, and is refused at advertisement time).
pub fn is_valid_public(pk: &[u8; 32]) -> bool {
    agree(&StaticSecret::from([0x5a; 32]), pk).is_some()
}

/// SHA-256 over a label and length-prefixed parts.
fn kdf(label: &[u8], session: u64, ids: &[NodeId], secret: &[u8]) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update((label.len() as u64).to_le_bytes());
    h.update(label);
    h.update(session.to_le_bytes());
    for id in ids {
        h.update(id.0.to_le_bytes());
    }
    h.update(secret);
    h.finalize().into()
}

/// The seed of the pairwise mask between `a` and `b` (symmetric in them).
pub fn pairwise_seed(session: u64, a: NodeId, b: NodeId, shared: &[u8; 32]) -> [u8; 32] {
    kdf(
        b"dwcp-secagg/pairwise-mask",
        session,
        &[a.min(b), a.max(b)],
        shared,
    )
}

/// The seed of `owner`'s self mask from its secret `b_u`.
pub fn self_mask_seed(session: u64, owner: NodeId, b: &[u8; 32]) -> [u8; 32] {
    kdf(b"dwcp-secagg/self-mask", session, &[owner], b)
}

/// The one-message key for share ciphertexts from `from` to `to`. Each key
/// encrypts exactly one message (fresh X25519 keys per session and a
/// direction-bound derivation), so a fixed nonce is safe.
fn share_key(session: u64, from: NodeId, to: NodeId, shared: &[u8; 32]) -> [u8; 32] {
    kdf(
        b"dwcp-secagg/share-encryption",
        session,
        &[from, to],
        shared,
    )
}

fn aad(session: u64, from: NodeId, to: NodeId) -> [u8; 16] {
    let mut a = [0u8; 16];
    a[..8].copy_from_slice(&session.to_le_bytes());
    a[8..12].copy_from_slice(&from.0.to_le_bytes());
    a[12..].copy_from_slice(&to.0.to_le_bytes());
    a
}

/// Encrypts and authenticates `plain` for `to`.
pub fn seal(session: u64, from: NodeId, to: NodeId, shared: &[u8; 32], plain: &[u8]) -> Vec<u8> {
    let key = share_key(session, from, to, shared);
    let cipher = ChaCha20Poly1305::new(Key::from_slice(&key));
    let aad = aad(session, from, to);
    cipher
        .encrypt(
            Nonce::from_slice(&[0u8; 12]),
            Payload {
                msg: plain,
                aad: &aad,
            },
        )
        .unwrap_or_default()
}

/// Decrypts a ciphertext from `from` to `to`; `None` if it was tampered
/// with, misaddressed or encrypted under another key.
pub fn open(
    session: u64,
    from: NodeId,
    to: NodeId,
    shared: &[u8; 32],
    ct: &[u8],
) -> Option<Vec<u8>> {
    let key = share_key(session, from, to, shared);
    let cipher = ChaCha20Poly1305::new(Key::from_slice(&key));
    let aad = aad(session, from, to);
    cipher
        .decrypt(
            Nonce::from_slice(&[0u8; 12]),
            Payload { msg: ct, aad: &aad },
        )
        .ok()
}

/// Adds (or, with `negate`, subtracts) the mask expanded from `seed` to
/// `acc`, element-wise modulo `mask + 1` (a power of two). Rings of at most
/// 32 bits draw 4 keystream bytes per element, wider ones 8.
pub fn apply_mask(acc: &mut [u64], seed: &[u8; 32], negate: bool, mask: u64) {
    let mut prg = Rng::from_seed(*seed);
    let width = if mask <= u64::from(u32::MAX) { 4 } else { 8 };
    let mut buf = [0u8; 8 * 256];
    for chunk in acc.chunks_mut(256) {
        let bytes = buf.get_mut(..chunk.len() * width).unwrap_or(&mut []);
        prg.fill_bytes(bytes);
        for (a, b) in chunk.iter_mut().zip(bytes.chunks_exact(width)) {
            let mut w = [0u8; 8];
            w.get_mut(..width).unwrap_or(&mut []).copy_from_slice(b);
            let m = u64::from_le_bytes(w);
            *a = if negate {
                a.wrapping_sub(m)
            } else {
                a.wrapping_add(m)
            } & mask;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use dwcp_core::rng;

    #[test]
    fn agreement_is_symmetric_and_rejects_small_order() {
        let a = KeyPair::generate(&mut rng::seeded(1));
        let b = KeyPair::generate(&mut rng::seeded(2));
        let ab = agree(&a.secret, &b.public).unwrap();
        assert_eq!(Some(ab), agree(&b.secret, &a.public));
        assert_eq!(agree(&a.secret, &[0u8; 32]), None);
        assert!(!is_valid_public(&[0u8; 32]));
        // u = 1 is another small-order point.
        let mut one = [0u8; 32];
        one[0] = 1;
        assert!(!is_valid_public(&one));
        assert!(is_valid_public(&b.public));
        let s1 = pairwise_seed(9, NodeId(1), NodeId(2), &ab);
        assert_eq!(s1, pairwise_seed(9, NodeId(2), NodeId(1), &ab));
        assert_ne!(s1, pairwise_seed(10, NodeId(1), NodeId(2), &ab));
    }

    #[test]
    fn seal_open_and_tampering() {
        let shared = [5u8; 32];
        let ct = seal(1, NodeId(0), NodeId(1), &shared, b"share");
        assert_eq!(
            open(1, NodeId(0), NodeId(1), &shared, &ct).unwrap(),
            b"share"
        );
        assert!(open(1, NodeId(1), NodeId(0), &shared, &ct).is_none());
        assert!(open(2, NodeId(0), NodeId(1), &shared, &ct).is_none());
        let mut bad = ct.clone();
        bad[0] ^= 1;
        assert!(open(1, NodeId(0), NodeId(1), &shared, &bad).is_none());
        assert!(open(1, NodeId(0), NodeId(1), &shared, &[]).is_none());
    }

    #[test]
    fn masks_cancel_and_stay_in_the_ring() {
        let mask = (1u64 << 20) - 1;
        let mut v = vec![5u64; 1000];
        apply_mask(&mut v, &[3u8; 32], false, mask);
        assert!(v.iter().all(|&x| x <= mask));
        assert!(v.iter().filter(|&&x| x != 5).count() > 990);
        apply_mask(&mut v, &[3u8; 32], true, mask);
        assert_eq!(v, vec![5u64; 1000]);
        // A 64-bit ring uses full 64-bit mask words.
        let mut w = vec![0u64; 100];
        apply_mask(&mut w, &[4u8; 32], false, u64::MAX);
        assert!(w.iter().any(|&x| x > u64::from(u32::MAX)));
    }
}
