//! Protocol-independent invariant checkers over delivered-value logs.
//!
//! Each check takes the logs of the honest nodes (`(node, values in delivery
//! order)`) and restates one property in a few lines of code that share
//! nothing with any protocol, so a protocol bug cannot hide itself. The
//! [`crate::Simulation`] methods of the same names collect the logs and add
//! the seed and time to the error.

use dwcp_core::{NodeId, Time};
use std::collections::{BTreeMap, BTreeSet};
use std::fmt::{self, Debug};

/// A log to check: the node and its delivered values, in order.
pub type Log<'a, V> = (NodeId, &'a [V]);

/// What went wrong. Values are shown with their `Debug` rendering.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ViolationKind {
    /// Two honest nodes delivered different values for the same key (slot,
    /// sequence number, …).
    Agreement {
        /// The key, rendered.
        key: String,
        /// First node and its value.
        a: (NodeId, String),
        /// Second node and its conflicting value.
        b: (NodeId, String),
    },
    /// Two honest logs where neither is a prefix of the other: they differ at
    /// `index`.
    Prefix {
        /// First position where they differ.
        index: usize,
        /// First node and its value there.
        a: (NodeId, String),
        /// Second node and its value there.
        b: (NodeId, String),
    },
    /// A node delivered the same value twice.
    Duplicate {
        /// The node.
        node: NodeId,
        /// The value.
        value: String,
        /// Its first position.
        first: usize,
        /// Its second position.
        second: usize,
    },
    /// A node delivered a value that was never submitted.
    Validity {
        /// The node.
        node: NodeId,
        /// Position in its log.
        index: usize,
        /// The value.
        value: String,
    },
    /// Not every honest node reached `target` deliveries by `deadline`.
    Liveness {
        /// Required deliveries per node.
        target: usize,
        /// The bound.
        deadline: Time,
        /// Nodes short of the target and how many they delivered.
        lagging: Vec<(NodeId, usize)>,
    },
}

impl fmt::Display for ViolationKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ViolationKind::Agreement { key, a, b } => {
                write!(
                    f,
                    "agreement: for key {key}, {} delivered {} but {} delivered {}",
                    a.0, a.1, b.0, b.1
                )
            }
            ViolationKind::Prefix { index, a, b } => {
                write!(
                    f,
                    "prefix: logs diverge at index {index}: {} has {} but {} has {}",
                    a.0, a.1, b.0, b.1
                )
            }
            ViolationKind::Duplicate {
                node,
                value,
                first,
                second,
            } => {
                write!(
                    f,
                    "duplicate: {node} delivered {value} at positions {first} and {second}"
                )
            }
            ViolationKind::Validity { node, index, value } => {
                write!(
                    f,
                    "validity: {node} delivered {value} at position {index}, which was never submitted"
                )
            }
            ViolationKind::Liveness {
                target,
                deadline,
                lagging,
            } => {
                let list: Vec<String> = lagging.iter().map(|(n, c)| format!("{n}:{c}")).collect();
                write!(
                    f,
                    "liveness: by {deadline} not every honest node delivered {target} values; lagging: {}",
                    list.join(" ")
                )
            }
        }
    }
}

/// A failed check, with the seed that reproduces it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Violation {
    /// The run's seed.
    pub seed: u64,
    /// Simulated time of the check.
    pub at: Time,
    /// What failed.
    pub kind: ViolationKind,
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SEED={} at {}: {}", self.seed, self.at, self.kind)
    }
}

impl std::error::Error for Violation {}

fn show<T: Debug + ?Sized>(v: &T) -> String {
    let s = format!("{v:?}");
    if s.len() > 200 {
        let mut end = 200;
        while !s.is_char_boundary(end) {
            end -= 1;
        }
        format!("{}…", &s[..end])
    } else {
        s
    }
}

/// Total-order prefix consistency: of any two logs, one is a prefix of the
/// other. Equivalently (and how it is checked, in linear time), every log is
/// a prefix of the longest one.
pub fn check_prefix<V: Debug + Eq>(logs: &[Log<'_, V>]) -> Result<(), ViolationKind> {
    let Some((long_node, long)) = logs
        .iter()
        .max_by_key(|(id, l)| (l.len(), std::cmp::Reverse(*id)))
    else {
        return Ok(());
    };
    for (node, log) in logs {
        if let Some(index) = log.iter().zip(long.iter()).position(|(a, b)| a != b) {
            return Err(ViolationKind::Prefix {
                index,
                a: (*long_node, show(&long[index])),
                b: (*node, show(&log[index])),
            });
        }
    }
    Ok(())
}

/// Agreement: values with the same key (as computed by `key`, e.g. the slot
/// a value was decided for) are equal across all logs. Pass
/// `|v| v.clone()`-free keys such as a sequence number.
pub fn check_agreement_by<V: Debug + Eq, K: Ord + Debug>(
    logs: &[Log<'_, V>],
    key: impl Fn(&V) -> K,
) -> Result<(), ViolationKind> {
    let mut seen: BTreeMap<K, (NodeId, &V)> = BTreeMap::new();
    for (node, log) in logs {
        for v in log.iter() {
            let k = key(v);
            match seen.get(&k) {
                Some((first, w)) if *w != v => {
                    return Err(ViolationKind::Agreement {
                        key: show(&k),
                        a: (*first, show(*w)),
                        b: (*node, show(v)),
                    });
                }
                Some(_) => {}
                None => {
                    seen.insert(k, (*node, v));
                }
            }
        }
    }
    Ok(())
}

/// No node delivers the same value twice.
pub fn check_no_duplicates<V: Debug + Ord>(logs: &[Log<'_, V>]) -> Result<(), ViolationKind> {
    for (node, log) in logs {
        let mut first: BTreeMap<&V, usize> = BTreeMap::new();
        for (i, v) in log.iter().enumerate() {
            if let Some(f) = first.insert(v, i) {
                return Err(ViolationKind::Duplicate {
                    node: *node,
                    value: show(v),
                    first: f,
                    second: i,
                });
            }
        }
    }
    Ok(())
}

/// Validity: every delivered value satisfies `submitted` (the caller's "was
/// this submitted as a request?").
pub fn check_validity<V: Debug>(
    logs: &[Log<'_, V>],
    submitted: impl Fn(&V) -> bool,
) -> Result<(), ViolationKind> {
    for (node, log) in logs {
        if let Some(index) = log.iter().position(|v| !submitted(v)) {
            return Err(ViolationKind::Validity {
                node: *node,
                index,
                value: show(&log[index]),
            });
        }
    }
    Ok(())
}

/// The number of distinct values across the logs (the usual "decisions").
pub fn distinct_values<V: Ord>(logs: &[Log<'_, V>]) -> usize {
    logs.iter()
        .flat_map(|(_, l)| l.iter())
        .collect::<BTreeSet<_>>()
        .len()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn logs<'a>(v: &'a [&'a [u32]]) -> Vec<Log<'a, u32>> {
        v.iter()
            .enumerate()
            .map(|(i, l)| (NodeId(i as u32), *l))
            .collect()
    }

    #[test]
    fn accepts_consistent_logs() {
        let l = logs(&[&[1, 2, 3], &[1, 2], &[], &[1, 2, 3]]);
        assert_eq!(check_prefix(&l), Ok(()));
        assert_eq!(check_no_duplicates(&l), Ok(()));
        assert_eq!(check_agreement_by(&l, |v| *v), Ok(()));
        assert_eq!(check_validity(&l, |v| *v <= 3), Ok(()));
        assert_eq!(distinct_values(&l), 3);
    }

    #[test]
    fn catches_each_violation() {
        let l = logs(&[&[1, 2, 3], &[1, 4]]);
        let e = check_prefix(&l).unwrap_err();
        assert!(matches!(e, ViolationKind::Prefix { index: 1, .. }), "{e}");
        let d = logs(&[&[1, 2, 1]]);
        assert!(matches!(
            check_no_duplicates(&d),
            Err(ViolationKind::Duplicate {
                first: 0,
                second: 2,
                ..
            })
        ));
        assert!(matches!(
            check_validity(&l, |v| *v != 4),
            Err(ViolationKind::Validity { index: 1, .. })
        ));
        // Keyed agreement: (slot, value) pairs, possibly in different orders.
        let a = [(1u32, 'x'), (2, 'y')];
        let b = [(2u32, 'z')];
        let kl: Vec<Log<'_, (u32, char)>> = vec![(NodeId(0), &a), (NodeId(1), &b)];
        let e = check_agreement_by(&kl, |v| v.0).unwrap_err();
        assert!(e.to_string().contains("for key 2"), "{e}");
        let v = Violation {
            seed: 42,
            at: Time::ZERO,
            kind: e,
        };
        assert!(v.to_string().starts_with("SEED=42"));
    }
}
