//! Node configuration and keys.

use crate::types::Round;
use dwcp_core::{Committee, Duration, QuorumError};
use dwcp_crypto::{AggKeyring, AggPublicKey, AggSecretKey, Keyring, PublicKey, SecretKey};

/// Everything tunable about a Narwhal node.
#[derive(Clone, Debug)]
pub struct NarwhalConfig {
    /// Committee size.
    pub n: usize,
    /// Tolerated Byzantine nodes (`n >= 3f + 1`).
    pub f: usize,
    /// Rounds of history kept below the last committed leader; older
    /// certificates and batches are collected and never ordered.
    pub gc_depth: Round,
    /// Collected certificates and batches stay available to lagging peers'
    /// fetches for this many more rounds (memory grows by about `n` small
    /// certificates per round of retention).
    pub sync_retention: Round,
    /// A node with parents ready but no batch to propose still proposes an
    /// (empty) header after this long.
    pub max_header_delay: Duration,
    /// How long the proposer waits for the steady-state leader's
    /// certificate, or for votes on it, before advancing anyway.
    pub leader_timeout: Duration,
    /// A batch is sealed when its payload reaches this many bytes…
    pub batch_size: usize,
    /// …or when its oldest transaction has waited this long.
    pub max_batch_delay: Duration,
    /// At most this many batch digests per header (the rest wait).
    pub max_header_batches: usize,
    /// Backpressure: no new batch is sealed (and broadcast) while this many
    /// sealed batches wait for a header. Keeps the uplink from queueing
    /// more data than a round can carry, so headers, votes and
    /// certificates are not stuck behind it.
    pub max_unproposed_batches: usize,
    /// Pacing: the uplink bytes per second batch broadcasts may use (a
    /// batch of `b` bytes costs `b · (n - 1)`); `None` sends batches as soon
    /// as they are sealed. Set it a little below the node's uplink so that
    /// headers, votes and certificates never queue behind a backlog of
    /// batches.
    pub batch_uplink_budget: Option<u64>,
    /// Transactions waiting for a batch beyond this many are dropped.
    pub max_pending_txs: usize,
    /// Batches from peers larger than this are refused.
    pub max_batch_bytes: usize,
    /// At most this many stored batches per author.
    pub max_batches_per_author: usize,
    /// Headers and certificates more than this many rounds ahead of ours
    /// are refused.
    pub max_rounds_ahead: Round,
    /// How often missing parents/batches are requested again and the own
    /// uncertified header re-broadcast.
    pub sync_retry: Duration,
    /// State sync: nodes capture their ordering state after the first
    /// committed anchor at or above every multiple of this many rounds and
    /// serve the last two to nodes that fell behind (0 disables it). Keep
    /// it well below `sync_retention / 2`.
    pub checkpoint_interval: Round,
    /// Persist every batch this node stores (so a restart does not need to
    /// fetch them). Off saves storage; batches are then fetched again.
    pub persist_batches: bool,
}

impl NarwhalConfig {
    /// Defaults for `n` nodes tolerating the largest `f`: GC depth 50,
    /// 200 ms header delay, 1 s leader timeout, 500 kB batches or 100 ms.
    pub fn new(n: usize) -> Result<NarwhalConfig, QuorumError> {
        let c = Committee::new(n)?;
        Ok(NarwhalConfig {
            n,
            f: c.f(),
            gc_depth: 50,
            sync_retention: 200,
            max_header_delay: Duration::from_millis(200),
            leader_timeout: Duration::from_secs(1),
            batch_size: 500_000,
            max_batch_delay: Duration::from_millis(100),
            max_header_batches: 64,
            max_unproposed_batches: 4,
            max_pending_txs: 200_000,
            batch_uplink_budget: None,
            max_batch_bytes: 4 << 20,
            max_batches_per_author: 1_000,
            max_rounds_ahead: 200,
            sync_retry: Duration::from_millis(500),
            persist_batches: true,
            checkpoint_interval: 10,
        })
    }

    /// The committee arithmetic.
    pub fn committee(&self) -> Result<Committee, QuorumError> {
        Committee::with_faults(self.n, self.f)
    }
}

/// A node's keys: sr25519 for signing headers (equivocation evidence is
/// transferable), BLS for votes (aggregated into certificates).
#[derive(Clone, Debug)]
pub struct Keys {
    /// Header signing key.
    pub sign: SecretKey,
    /// Everybody's header keys, by `NodeId`.
    pub sign_publics: Vec<PublicKey>,
    /// BLS vote key.
    pub vote: AggSecretKey,
    /// Everybody's vote keys, by `NodeId`.
    pub vote_publics: Vec<AggPublicKey>,
}

impl Keys {
    /// Real keys for every node of an `n`-node committee, from `seed`.
    pub fn generate(n: usize, seed: u64) -> Vec<Keys> {
        Self::split(Keyring::sr25519(n, seed), AggKeyring::bls(n, seed ^ 0xb15))
    }

    /// INSECURE forgeable mock keys (large simulations only).
    #[cfg(feature = "insecure-mock-crypto")]
    pub fn insecure_mock(n: usize, seed: u64) -> Vec<Keys> {
        Self::split(
            Keyring::insecure_mock(n, seed),
            AggKeyring::insecure_mock(n, seed ^ 0xb15),
        )
    }

    /// One `Keys` per node from two keyrings of the same size.
    pub fn split(sign: Keyring, vote: AggKeyring) -> Vec<Keys> {
        sign.secrets
            .iter()
            .zip(&vote.secrets)
            .map(|(s, v)| Keys {
                sign: s.clone(),
                sign_publics: sign.publics.clone(),
                vote: v.clone(),
                vote_publics: vote.publics.clone(),
            })
            .collect()
    }
}
