//! The replay buffer of aligned joint transitions: index `k` holds every
//! agent's observation, action, reward and next observation of the same
//! environment step, so a sampled index set reads a consistent joint sample.

use dwcp_core::rng::RngCore;
use dwcp_nn::ndarray::Array2;

/// One agent's columns of the buffer, stored row-major in flat vectors that
/// grow up to the capacity and then wrap (oldest overwritten first).
#[derive(Clone, Debug)]
struct AgentStore {
    obs_dim: usize,
    act_dim: usize,
    obs: Vec<f32>,
    act: Vec<f32>,
    rew: Vec<f32>,
    next_obs: Vec<f32>,
}

/// A batch gathered from the buffer, one matrix per agent (`batch` rows),
/// reused across samples so sampling allocates nothing once sized.
#[derive(Clone, Debug)]
pub struct Batch {
    /// Per-agent observations, `batch × obs_dim(i)`.
    pub obs: Vec<Array2<f32>>,
    /// Per-agent actions, `batch × action_dim(i)`.
    pub act: Vec<Array2<f32>>,
    /// Per-agent rewards, `batch × 1`.
    pub rew: Vec<Array2<f32>>,
    /// Per-agent next observations, `batch × obs_dim(i)`.
    pub next_obs: Vec<Array2<f32>>,
    /// `1` where the transition ended in a true terminal state, `batch × 1`.
    pub done: Array2<f32>,
}

impl Batch {
    /// Number of rows.
    pub fn len(&self) -> usize {
        self.done.nrows()
    }

    /// Whether the batch has no rows.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Fixed-capacity FIFO replay of joint transitions.
#[derive(Clone, Debug)]
pub struct ReplayBuffer {
    capacity: usize,
    len: usize,
    next: usize,
    agents: Vec<AgentStore>,
    done: Vec<f32>,
}

impl ReplayBuffer {
    /// An empty buffer for agents with the given observation and action widths.
    /// Memory grows with use, up to `capacity` transitions.
    pub fn new(capacity: usize, obs_dims: &[usize], act_dims: &[usize]) -> Self {
        let agents = obs_dims
            .iter()
            .zip(act_dims)
            .map(|(&obs_dim, &act_dim)| AgentStore {
                obs_dim,
                act_dim,
                obs: Vec::new(),
                act: Vec::new(),
                rew: Vec::new(),
                next_obs: Vec::new(),
            })
            .collect();
        ReplayBuffer {
            capacity: capacity.max(1),
            len: 0,
            next: 0,
            agents,
            done: Vec::new(),
        }
    }

    /// Stored transitions.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether nothing is stored.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Capacity in transitions.
    pub fn capacity(&self) -> usize {
        self.capacity
    }

    /// Stores one joint transition. Slices shorter or longer than an agent's
    /// widths are truncated or zero-padded.
    pub fn push(
        &mut self,
        obs: &[Vec<f32>],
        act: &[Vec<f32>],
        rew: &[f32],
        next_obs: &[Vec<f32>],
        done: bool,
    ) {
        let slot = self.next;
        let append = self.len < self.capacity;
        fn put(v: &mut Vec<f32>, slot: usize, width: usize, src: &[f32], append: bool) {
            if append {
                v.extend((0..width).map(|k| src.get(k).copied().unwrap_or(0.0)));
            } else if let Some(dst) = v.get_mut(slot * width..(slot + 1) * width) {
                for (k, d) in dst.iter_mut().enumerate() {
                    *d = src.get(k).copied().unwrap_or(0.0);
                }
            }
        }
        for (i, a) in self.agents.iter_mut().enumerate() {
            let empty: &[f32] = &[];
            put(
                &mut a.obs,
                slot,
                a.obs_dim,
                obs.get(i).map_or(empty, |v| v),
                append,
            );
            put(
                &mut a.act,
                slot,
                a.act_dim,
                act.get(i).map_or(empty, |v| v),
                append,
            );
            put(
                &mut a.rew,
                slot,
                1,
                &[rew.get(i).copied().unwrap_or(0.0)],
                append,
            );
            put(
                &mut a.next_obs,
                slot,
                a.obs_dim,
                next_obs.get(i).map_or(empty, |v| v),
                append,
            );
        }
        put(
            &mut self.done,
            slot,
            1,
            &[f32::from(u8::from(done))],
            append,
        );
        self.next = (self.next + 1) % self.capacity;
        self.len = (self.len + 1).min(self.capacity);
    }

    /// An empty batch of `batch` rows sized for this buffer's agents.
    pub fn batch(&self, batch: usize) -> Batch {
        Batch {
            obs: self
                .agents
                .iter()
                .map(|a| Array2::zeros((batch, a.obs_dim)))
                .collect(),
            act: self
                .agents
                .iter()
                .map(|a| Array2::zeros((batch, a.act_dim)))
                .collect(),
            rew: self
                .agents
                .iter()
                .map(|_| Array2::zeros((batch, 1)))
                .collect(),
            next_obs: self
                .agents
                .iter()
                .map(|a| Array2::zeros((batch, a.obs_dim)))
                .collect(),
            done: Array2::zeros((batch, 1)),
        }
    }

    /// Draws `out.len()` indices uniformly with replacement (one index set for
    /// every agent) and gathers them into `out`. Does nothing when empty.
    pub fn sample_into(&self, out: &mut Batch, rng: &mut impl RngCore) {
        if self.len == 0 {
            return;
        }
        let n = out.len();
        let idx: Vec<usize> = (0..n)
            .map(|_| (rng.next_u64() % self.len as u64) as usize)
            .collect();
        self.gather(&idx, out);
    }

    /// Gathers the transitions at `idx` (each `< len`) into `out`.
    pub fn gather(&self, idx: &[usize], out: &mut Batch) {
        fn copy_rows(src: &[f32], width: usize, idx: &[usize], dst: &mut Array2<f32>) {
            if let Some(d) = dst.as_slice_mut() {
                for (row, &k) in d.chunks_mut(width.max(1)).zip(idx) {
                    if let Some(s) = src.get(k * width..(k + 1) * width) {
                        row.copy_from_slice(s);
                    }
                }
            }
        }
        for (i, a) in self.agents.iter().enumerate() {
            copy_rows(&a.obs, a.obs_dim, idx, &mut out.obs[i]);
            copy_rows(&a.act, a.act_dim, idx, &mut out.act[i]);
            copy_rows(&a.rew, 1, idx, &mut out.rew[i]);
            copy_rows(&a.next_obs, a.obs_dim, idx, &mut out.next_obs[i]);
        }
        copy_rows(&self.done, 1, idx, &mut out.done);
    }
}
