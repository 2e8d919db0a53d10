//! The wire form of [`ThresholdPublic`]: `(n, threshold, key)`, validated on
//! decoding.

use super::*;

/// The wire form of [`ThresholdPublic`].
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(super) struct PublicWire {
    n: u32,
    threshold: u32,
    key: KeyWire,
}

#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
enum KeyWire {
    /// Concatenated 48-byte compressed G1 commitment coefficients.
    Bls(Vec<u8>),
    #[cfg(feature = "insecure-mock-crypto")]
    InsecureMock(u64),
}

impl From<ThresholdPublic> for PublicWire {
    fn from(p: ThresholdPublic) -> Self {
        let key = match &p.key {
            GroupKey::Bls { set, .. } => KeyWire::Bls(set.to_bytes()),
            #[cfg(feature = "insecure-mock-crypto")]
            GroupKey::InsecureMock { group } => KeyWire::InsecureMock(*group),
        };
        PublicWire {
            n: p.n as u32,
            threshold: p.threshold as u32,
            key,
        }
    }
}

impl TryFrom<PublicWire> for ThresholdPublic {
    type Error = String;

    fn try_from(w: PublicWire) -> Result<Self, String> {
        let (n, threshold) = (w.n as usize, w.threshold as usize);
        check_params(n, threshold).map_err(|e| e.to_string())?;
        match w.key {
            KeyWire::Bls(bytes) => {
                if bytes.len() != threshold * blsttc::PK_SIZE {
                    return Err(format!(
                        "commitment of {} bytes for threshold {threshold}",
                        bytes.len()
                    ));
                }
                let set = blsttc::PublicKeySet::from_bytes(bytes).map_err(|e| e.to_string())?;
                Ok(ThresholdPublic::from_set(n, set))
            }
            #[cfg(feature = "insecure-mock-crypto")]
            KeyWire::InsecureMock(group) => Ok(ThresholdPublic {
                n,
                threshold,
                key: GroupKey::InsecureMock { group },
            }),
        }
    }
}
