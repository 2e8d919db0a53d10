//! The replay buffer of aligned joint transitions: index `k` holds every
//! agent's observation, action, reward and next observation of the same
//! environment step, so a sampled index set reads a consistent joint sample.

use dwcp_core::rng::RngCore;
use dwcp_nn::ndarray::Array2;

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

/// `dst ← src` for short rows (a few dozen floats): fixed 8-float moves the
/// compiler inlines, instead of one `memcpy` call per row.
#[inline]
/// Row `r` (of width `w`) of agent `i`'s matrix in `m`, if `m` has that
/// agent, is contiguous and has that row.
fn row_of(m: &mut [Array2<f32>], i: usize, r: usize, w: usize) -> Option<&mut [f32]> {
    m.get_mut(i)?.as_slice_mut()?.get_mut(r * w..(r + 1) * w)
}

pub(crate) fn copy_row(dst: &mut [f32], src: &[f32]) {
    let mut d8 = dst.chunks_exact_mut(8);
    let mut s8 = src.chunks_exact(8);
    for (d, s) in (&mut d8).zip(&mut s8) {
        d.copy_from_slice(s);
    }
    for (d, s) in d8.into_remainder().iter_mut().zip(s8.remainder()) {
        *d = *s;
    }
}

/// Fixed-capacity FIFO replay of joint transitions.
///
/// Each transition is one contiguous row `[obs_1 … obs_n | act_1 … act_n |
/// rew_1 … rew_n | next_obs_1 … next_obs_n | done]`, so sampling touches one
/// block of memory per transition, and the row's first columns are already
/// a centralised critic's input `[obs_1 … obs_n, act_1 … act_n]`.
#[derive(Clone, Debug)]
pub struct ReplayBuffer {
    capacity: usize,
    len: usize,
    next: usize,
    obs_dims: Vec<usize>,
    act_dims: Vec<usize>,
    /// Column of agent `i`'s observation (and, from `next_off`, next observation).
    obs_off: Vec<usize>,
    /// Column of agent `i`'s action.
    act_off: Vec<usize>,
    rew_off: usize,
    next_off: usize,
    done_off: usize,
    width: usize,
    rows: Vec<f32>,
}

impl ReplayBuffer {
    /// An empty buffer for agents with the given observation and action widths
    /// (one action width per observation width; extra entries are ignored).
    /// Memory grows with use, up to `capacity` transitions.
    pub fn new(capacity: usize, obs_dims: &[usize], act_dims: &[usize]) -> Self {
        let n = obs_dims.len().min(act_dims.len());
        let (obs_dims, act_dims) = (obs_dims[..n].to_vec(), act_dims[..n].to_vec());
        let total_obs: usize = obs_dims.iter().sum();
        let total_act: usize = act_dims.iter().sum();
        let prefix = |d: &[usize], start: usize| {
            d.iter()
                .scan(start, |o, &w| {
                    let at = *o;
                    *o += w;
                    Some(at)
                })
                .collect::<Vec<_>>()
        };
        let rew_off = total_obs + total_act;
        let next_off = rew_off + n;
        let done_off = next_off + total_obs;
        ReplayBuffer {
            capacity: capacity.max(1),
            len: 0,
            next: 0,
            obs_off: prefix(&obs_dims, 0),
            act_off: prefix(&act_dims, total_obs),
            obs_dims,
            act_dims,
            rew_off,
            next_off,
            done_off,
            width: done_off + 1,
            rows: Vec::new(),
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

    /// Width of the centralised critic input the rows start with
    /// (all observations, then all actions).
    pub fn joint_width(&self) -> usize {
        self.rew_off
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
        let w = self.width;
        let slot = self.next;
        if self.len < self.capacity && self.rows.len() < (slot + 1) * w {
            self.rows.resize((slot + 1) * w, 0.0);
        }
        let Some(row) = self.rows.get_mut(slot * w..(slot + 1) * w) else {
            return;
        };
        fn put(dst: &mut [f32], src: Option<&Vec<f32>>) {
            let src = src.map_or(&[][..], |v| v.as_slice());
            for (k, d) in dst.iter_mut().enumerate() {
                *d = src.get(k).copied().unwrap_or(0.0);
            }
        }
        for i in 0..self.obs_dims.len() {
            let (o, a, od, ad) = (
                self.obs_off[i],
                self.act_off[i],
                self.obs_dims[i],
                self.act_dims[i],
            );
            put(&mut row[o..o + od], obs.get(i));
            put(&mut row[a..a + ad], act.get(i));
            row[self.rew_off + i] = rew.get(i).copied().unwrap_or(0.0);
            let nx = self.next_off + o;
            put(&mut row[nx..nx + od], next_obs.get(i));
        }
        row[self.done_off] = f32::from(u8::from(done));
        self.next = (self.next + 1) % self.capacity;
        self.len = (self.len + 1).min(self.capacity);
    }

    /// An empty batch of `batch` rows sized for this buffer's agents.
    pub fn batch(&self, batch: usize) -> Batch {
        Batch {
            obs: self
                .obs_dims
                .iter()
                .map(|&d| Array2::zeros((batch, d)))
                .collect(),
            act: self
                .act_dims
                .iter()
                .map(|&d| Array2::zeros((batch, d)))
                .collect(),
            rew: self
                .obs_dims
                .iter()
                .map(|_| Array2::zeros((batch, 1)))
                .collect(),
            next_obs: self
                .obs_dims
                .iter()
                .map(|&d| Array2::zeros((batch, d)))
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
        let idx = self.sample_indices(out.len(), rng);
        self.gather(&idx, out);
    }

    /// `n` indices drawn uniformly with replacement (empty when the buffer is).
    pub fn sample_indices(&self, n: usize, rng: &mut impl RngCore) -> Vec<usize> {
        if self.len == 0 {
            return Vec::new();
        }
        (0..n)
            .map(|_| (rng.next_u64() % self.len as u64) as usize)
            .collect()
    }

    /// Gathers the transitions at `idx` (each `< len`; others are skipped)
    /// into `out` (shaped by [`Self::batch`]).
    pub fn gather(&self, idx: &[usize], out: &mut Batch) {
        self.gather_rows(idx, out, None);
    }

    /// [`Self::gather`] that also writes each transition's centralised critic
    /// input `[obs_1 … obs_n, act_1 … act_n]` into the row of `x` and its
    /// next observations into the first columns of `x_next` (both
    /// [`Self::joint_width`] wide; the caller fills `x_next`'s action
    /// columns). Matrices of other widths or not contiguous are left alone.
    pub fn gather_wide(
        &self,
        idx: &[usize],
        out: &mut Batch,
        x: &mut Array2<f32>,
        x_next: &mut Array2<f32>,
    ) {
        let jw = self.joint_width();
        let fits = x.ncols() == jw && x_next.ncols() == jw;
        match (x.as_slice_mut(), x_next.as_slice_mut()) {
            (Some(xs), Some(xn)) if fits && jw > 0 => self.gather_rows(idx, out, Some((xs, xn))),
            _ => self.gather_rows(idx, out, None),
        }
    }

    fn gather_rows(
        &self,
        idx: &[usize],
        out: &mut Batch,
        mut wide: Option<(&mut [f32], &mut [f32])>,
    ) {
        let (w, jw) = (self.width, self.rew_off);
        let total_obs = self.done_off - self.next_off;
        for (r, &k) in idx.iter().enumerate() {
            let Some(src) = self.rows.get(k * w..(k + 1) * w) else {
                continue;
            };
            if let Some((xs, xn)) = wide.as_mut() {
                if let Some(d) = xs.get_mut(r * jw..(r + 1) * jw) {
                    d.copy_from_slice(&src[..jw]);
                }
                if let Some(d) = xn.get_mut(r * jw..r * jw + total_obs) {
                    d.copy_from_slice(&src[self.next_off..self.done_off]);
                }
            }
            for i in 0..self.obs_dims.len() {
                let (o, a, od, ad) = (
                    self.obs_off[i],
                    self.act_off[i],
                    self.obs_dims[i],
                    self.act_dims[i],
                );
                let nx = self.next_off + o;
                if let Some(d) = row_of(&mut out.obs, i, r, od) {
                    copy_row(d, &src[o..o + od]);
                }
                if let Some(d) = row_of(&mut out.act, i, r, ad) {
                    copy_row(d, &src[a..a + ad]);
                }
                if let Some(d) = row_of(&mut out.rew, i, r, 1) {
                    d[0] = src[self.rew_off + i];
                }
                if let Some(d) = row_of(&mut out.next_obs, i, r, od) {
                    copy_row(d, &src[nx..nx + od]);
                }
            }
            if let Some(d) = out.done.as_slice_mut().and_then(|m| m.get_mut(r)) {
                *d = src[self.done_off];
            }
        }
    }
}
