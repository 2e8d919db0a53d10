//! Decentralised execution: a trained actor maps one agent's local
//! observation to its action, with no critic, buffer or optimiser attached.

use crate::space::{self, ActionSpace};
use dwcp_core::codec;
use dwcp_core::rng::RngCore;
use dwcp_nn::ndarray::{Array2, ArrayView2};
use dwcp_nn::{Mlp, NnError};
use serde::{Deserialize, Serialize};

/// One agent's trained policy. Serde (JSON, bincode) round-trips it; loading
/// re-checks that the network's output width fits the action space.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "PolicyRepr")]
pub struct Policy {
    actor: Mlp,
    space: ActionSpace,
}

#[derive(Deserialize)]
struct PolicyRepr {
    actor: Mlp,
    space: ActionSpace,
}

impl TryFrom<PolicyRepr> for Policy {
    type Error = NnError;
    fn try_from(r: PolicyRepr) -> Result<Self, NnError> {
        Policy::new(r.actor, r.space)
    }
}

impl Policy {
    /// Wraps an actor; errors unless its output width is the space's
    /// parameter width ([`ActionSpace::param_dim`]).
    pub fn new(actor: Mlp, space: ActionSpace) -> Result<Self, NnError> {
        if actor.output_dim() != space.param_dim() || space.action_dim() == 0 {
            return Err(NnError::InvalidArchitecture(format!(
                "actor outputs {} values, {space:?} needs {}",
                actor.output_dim(),
                space.param_dim()
            )));
        }
        Ok(Policy { actor, space })
    }

    /// The actor network.
    pub fn actor(&self) -> &Mlp {
        &self.actor
    }

    /// The action space.
    pub fn space(&self) -> ActionSpace {
        self.space
    }

    /// Observation width.
    pub fn obs_dim(&self) -> usize {
        self.actor.input_dim()
    }

    /// The deterministic action for one observation: the per-group softmax of
    /// the logits (categorical) or the mean (continuous). An observation of
    /// the wrong width is an error.
    pub fn act(&self, obs: &[f32]) -> Result<Vec<f32>, NnError> {
        let mut out = vec![0.0; self.space.action_dim()];
        self.act_into(obs, &mut out)?;
        Ok(out)
    }

    /// Like [`Self::act`], writing into `out` (`action_dim` entries).
    pub fn act_into(&self, obs: &[f32], out: &mut [f32]) -> Result<(), NnError> {
        let params = self.params(obs)?;
        if out.len() != self.space.action_dim() {
            return Err(NnError::LengthMismatch {
                expected: self.space.action_dim(),
                got: out.len(),
            });
        }
        if let Some(p) = params.as_slice() {
            space::deterministic_into(self.space, p, out);
        }
        Ok(())
    }

    /// An exploratory action (Gumbel-softmax or Gaussian sample), as used
    /// while training.
    pub fn act_sample(&self, obs: &[f32], rng: &mut impl RngCore) -> Result<Vec<f32>, NnError> {
        let params = self.params(obs)?;
        let d = self.space.action_dim();
        let mut action = Array2::zeros((1, d));
        let mut noise = Array2::zeros((1, d));
        space::sample_into(
            self.space,
            params.view(),
            action.view_mut(),
            noise.view_mut(),
            rng,
        );
        Ok(action.into_raw_vec_and_offset().0)
    }

    fn params(&self, obs: &[f32]) -> Result<Array2<f32>, NnError> {
        let x = ArrayView2::from_shape((1, obs.len()), obs)
            .map_err(|e| NnError::ShapeMismatch(e.to_string()))?;
        if obs.len() != self.obs_dim() {
            return Err(NnError::LengthMismatch {
                expected: self.obs_dim(),
                got: obs.len(),
            });
        }
        Ok(self.actor.forward(&x))
    }

    /// The policy as bytes (dwcp's bounded bincode codec).
    pub fn to_bytes(&self) -> Result<Vec<u8>, NnError> {
        Ok(codec::try_encode(self)?)
    }

    /// A policy from [`Self::to_bytes`] output; malformed or inconsistent
    /// bytes are an error, never a panic.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, NnError> {
        Ok(codec::decode(bytes)?)
    }
}
