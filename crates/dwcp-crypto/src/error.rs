//! Error types.

use dwcp_core::{Evidence, Fault, NodeId};
use std::fmt;

/// Why shares could not be combined into a certificate.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CombineError {
    /// Signers whose shares were found invalid, or whose id is out of range:
    /// evidence against them. Sorted.
    pub bad_signers: Vec<NodeId>,
    /// True if fewer than `needed` valid shares were available (always the
    /// case unless the library itself is broken).
    pub not_enough: bool,
    /// Number of shares that were (or could still be) valid.
    pub valid: usize,
    /// Number of shares needed.
    pub needed: usize,
}

impl fmt::Display for CombineError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "cannot combine: {} valid shares of {} needed",
            self.valid, self.needed
        )?;
        if !self.bad_signers.is_empty() {
            write!(f, "; bad signers: {:?}", self.bad_signers)?;
        }
        Ok(())
    }
}

impl std::error::Error for CombineError {}

/// Invalid threshold parameters: need `1 <= threshold <= n <= u32::MAX`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ParamError {
    /// Requested number of nodes.
    pub n: usize,
    /// Requested threshold.
    pub threshold: usize,
}

impl fmt::Display for ParamError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "invalid threshold {} for {} nodes (need 1 <= threshold <= n)",
            self.threshold, self.n
        )
    }
}

impl std::error::Error for ParamError {}

/// `Fault::InvalidSignature` evidence against each culprit, ready to emit as
/// `Output::Evidence`.
pub fn invalid_signature_evidence(culprits: &[NodeId]) -> Vec<Evidence> {
    culprits
        .iter()
        .map(|&culprit| Evidence {
            culprit,
            fault: Fault::InvalidSignature,
        })
        .collect()
}

impl CombineError {
    /// Evidence against [`bad_signers`](Self::bad_signers).
    pub fn evidence(&self) -> Vec<Evidence> {
        invalid_signature_evidence(&self.bad_signers)
    }
}

impl crate::threshold::Combined {
    /// Evidence against [`bad_signers`](Self::bad_signers).
    pub fn evidence(&self) -> Vec<Evidence> {
        invalid_signature_evidence(&self.bad_signers)
    }
}

impl crate::aggregate::Aggregated {
    /// Evidence against [`bad_signers`](Self::bad_signers).
    pub fn evidence(&self) -> Vec<Evidence> {
        invalid_signature_evidence(&self.bad_signers)
    }
}
