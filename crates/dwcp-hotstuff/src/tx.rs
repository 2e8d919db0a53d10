//! Transactions: shared payload bytes, transactions and batches — the types
//! of [`dwcp_core::tx`], shared with the other baselines.

pub use dwcp_core::tx::{Batch, Payload, Tx};
