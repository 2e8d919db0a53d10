//! Client-signed transactions (optional: [`crate::HotStuffConfig::clients`]).
//!
//! Without client keys a Byzantine leader can propose transactions nobody
//! submitted. With them, every transaction's payload ends with its client's
//! signature: `body ‖ bincode((client, signature)) ‖ length (u16 LE)`, the
//! signature over `bincode((tx id, client, body))` in the context
//! [`CLIENT_CONTEXT`]. Replicas drop unsigned or forged transactions from
//! clients and relays, and a proposal carrying one is evidence against its
//! leader (no vote).

use crate::tx::Tx;
use dwcp_core::codec;
use dwcp_crypto::{PublicKey, SecretKey, Signature};

/// The signing context of client signatures on transactions.
pub const CLIENT_CONTEXT: &[u8] = b"dwcp-hotstuff-client";

/// Most bytes the signature trailer may take.
const MAX_TRAILER: usize = 512;

/// A transaction `id` with payload `body`, signed by client `client` with
/// `key` (the public half is `clients[client]` in the configuration).
pub fn sign_tx(id: u64, client: u32, body: &[u8], key: &SecretKey) -> Tx {
    let sig = key.sign(CLIENT_CONTEXT, &codec::encode(&(id, client, body)));
    let trailer = codec::encode(&(client, sig));
    let mut p = Vec::with_capacity(body.len() + trailer.len() + 2);
    p.extend_from_slice(body);
    p.extend_from_slice(&trailer);
    // The trailer of a signature is far below u16::MAX bytes.
    p.extend_from_slice(&(trailer.len() as u16).to_le_bytes());
    Tx::new(id, p)
}

/// The body and `(client, signature)` of a signed transaction's payload,
/// if it has that shape.
pub fn split_signed(payload: &[u8]) -> Option<(&[u8], u32, Signature)> {
    let (rest, len) = payload.split_last_chunk::<2>()?;
    let len = usize::from(u16::from_le_bytes(*len));
    if len > MAX_TRAILER {
        return None;
    }
    let cut = rest.len().checked_sub(len)?;
    let (body, trailer) = rest.split_at(cut);
    let (client, sig): (u32, Signature) = codec::decode_bounded(trailer, MAX_TRAILER).ok()?;
    Some((body, client, sig))
}

/// Whether `tx` carries a valid signature of client `clients[client]` (an
/// unknown client never verifies).
pub fn verify_tx(tx: &Tx, clients: &[PublicKey]) -> bool {
    let Some((body, client, sig)) = split_signed(tx.payload.as_slice()) else {
        return false;
    };
    usize::try_from(client)
        .ok()
        .and_then(|c| clients.get(c))
        .is_some_and(|pk| pk.verify(CLIENT_CONTEXT, &codec::encode(&(tx.id, client, body)), &sig))
}

#[cfg(test)]
mod tests {
    use super::*;
    use dwcp_crypto::Keyring;

    #[test]
    fn signatures_bind_id_client_and_body() {
        let ring = Keyring::sr25519(3, 9);
        let tx = sign_tx(7, 1, b"pay 5", &ring.secrets[1]);
        assert!(verify_tx(&tx, &ring.publics));
        // Another id, body or claimed client, or no signature at all: refused.
        assert!(!verify_tx(&Tx::new(8, tx.payload.clone()), &ring.publics));
        let mut p = tx.payload.as_slice().to_vec();
        p[0] ^= 1;
        assert!(!verify_tx(&Tx::new(7, p), &ring.publics));
        let forged = sign_tx(7, 2, b"pay 5", &ring.secrets[1]);
        assert!(!verify_tx(&forged, &ring.publics));
        assert!(!verify_tx(&Tx::new(7, b"pay 5".to_vec()), &ring.publics));
        assert!(!verify_tx(
            &sign_tx(7, 5, b"x", &ring.secrets[0]),
            &ring.publics
        ));
        let (body, client, _) = split_signed(tx.payload.as_slice()).unwrap();
        assert_eq!((body, client), (&b"pay 5"[..], 1));
    }

    #[test]
    fn garbage_payloads_never_verify_or_panic() {
        let ring = Keyring::sr25519(2, 1);
        for len in 0..80usize {
            let p: Vec<u8> = (0..len).map(|i| (i * 37 % 251) as u8).collect();
            assert!(!verify_tx(&Tx::new(1, p), &ring.publics));
        }
        assert!(!verify_tx(&Tx::new(1, vec![0xff, 0xff]), &ring.publics));
    }
}
