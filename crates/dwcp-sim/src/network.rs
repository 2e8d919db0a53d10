//! The network model: latency, jitter, loss, duplication, uplink bandwidth and
//! global stabilisation time. [`NetworkConfig::describe`] states it in words.

use crate::partition::{Partitions, Verdict};
use crate::rand::{chance, uniform_ns, unit};
use dwcp_core::rng::Rng;
use dwcp_core::{Duration, Time};
use std::fmt::Write as _;

/// How long one copy of a message spends in flight between two nodes (one
/// way), before jitter and GST effects are added.
#[derive(Clone, Debug, PartialEq)]
pub enum LatencyModel {
    /// Always the same delay.
    Fixed(Duration),
    /// Uniform on `[min, max]`.
    Uniform {
        /// Smallest delay.
        min: Duration,
        /// Largest delay.
        max: Duration,
    },
    /// `min + Exp(mean)`: a floor plus an exponential tail.
    ExpTail {
        /// The floor.
        min: Duration,
        /// Mean of the exponential part.
        mean: Duration,
    },
    /// Nodes live in regions; the delay is the one-way latency of the region
    /// pair plus uniform jitter on `[0, jitter]`.
    Regions(RegionMatrix),
}

/// One-way latencies between regions, and which node lives where.
#[derive(Clone, Debug, PartialEq)]
pub struct RegionMatrix {
    /// Region names, for reports.
    pub names: Vec<String>,
    /// `one_way[a][b]`: one-way latency from region `a` to region `b`.
    pub one_way: Vec<Vec<Duration>>,
    /// Extra uniform delay on `[0, jitter]` per copy.
    pub jitter: Duration,
    /// Region index of each node. Nodes past the end of the list (or all of
    /// them, when it is empty) are assigned round-robin: node `i` lives in
    /// region `i % regions`.
    pub assignment: Vec<usize>,
}

impl RegionMatrix {
    /// A matrix from names and symmetric round-trip-free one-way latencies in
    /// milliseconds, with round-robin assignment.
    pub fn from_millis(names: &[&str], one_way_ms: &[&[u64]], jitter: Duration) -> RegionMatrix {
        RegionMatrix {
            names: names.iter().map(|s| s.to_string()).collect(),
            one_way: one_way_ms
                .iter()
                .map(|row| row.iter().map(|ms| Duration::from_millis(*ms)).collect())
                .collect(),
            jitter,
            assignment: Vec::new(),
        }
    }

    /// Five illustrative regions (North America east and west, Europe, Asia,
    /// South America) with one-way latencies of the order of public
    /// inter-region measurements (roughly half the round-trip times). Use it
    /// for shape, not for claims about a particular provider.
    pub fn five_regions() -> RegionMatrix {
        RegionMatrix::from_millis(
            &["na-east", "na-west", "europe", "asia", "south-america"],
            &[
                &[1, 32, 40, 75, 60],
                &[32, 1, 70, 55, 85],
                &[40, 70, 1, 110, 95],
                &[75, 55, 110, 1, 135],
                &[60, 85, 95, 135, 1],
            ],
            Duration::from_millis(2),
        )
    }

    /// The region of node `i`.
    pub fn region_of(&self, i: usize) -> usize {
        let r = self.names.len().max(1);
        self.assignment.get(i).copied().unwrap_or(i % r)
    }
}

/// Partial synchrony: before `at` the network may lose and delay messages
/// beyond the base model; from `at` on, nothing is lost and latency is
/// bounded by `delta`.
#[derive(Clone, Debug, PartialEq)]
pub struct Gst {
    /// Global stabilisation time.
    pub at: Time,
    /// Extra loss probability for copies sent before `at`.
    pub loss_before: f64,
    /// Extra uniform delay on `[0, extra_delay_before]` for copies sent
    /// before `at`.
    pub extra_delay_before: Duration,
    /// Bound on the in-flight delay after GST. A copy sent before GST that is
    /// not lost arrives by `at + delta` at the latest.
    pub delta: Duration,
}

/// Everything about the network. See [`NetworkConfig::describe`].
#[derive(Clone, Debug, PartialEq)]
pub struct NetworkConfig {
    /// Per-copy one-way latency.
    pub latency: LatencyModel,
    /// Extra uniform delay on `[0, jitter]` per copy; with any randomness in
    /// the latency this is what reorders messages.
    pub jitter: Duration,
    /// Probability that a copy is lost (independently per copy).
    pub loss: f64,
    /// Probability that a delivered copy is delivered twice (the duplicate
    /// takes an independently sampled latency).
    pub duplicate: f64,
    /// Uplink bandwidth of every node in bytes per second; `None` means
    /// infinite. Per-node values can be set with
    /// [`crate::Simulation::set_uplink`].
    pub uplink: Option<u64>,
    /// Partial synchrony, if modelled.
    pub gst: Option<Gst>,
}

impl Default for NetworkConfig {
    /// Uniform 1–10 ms latency, no loss, no duplicates, infinite bandwidth.
    fn default() -> Self {
        NetworkConfig {
            latency: LatencyModel::Uniform {
                min: Duration::from_millis(1),
                max: Duration::from_millis(10),
            },
            jitter: Duration::ZERO,
            loss: 0.0,
            duplicate: 0.0,
            uplink: None,
            gst: None,
        }
    }
}

impl NetworkConfig {
    /// A perfect network with a fixed latency.
    pub fn fixed(latency: Duration) -> Self {
        NetworkConfig {
            latency: LatencyModel::Fixed(latency),
            ..Default::default()
        }
    }

    /// A wide-area network: `1 ms + Exp(50 ms)`, 1% loss, 1% duplicates.
    pub fn wan() -> Self {
        NetworkConfig {
            latency: LatencyModel::ExpTail {
                min: Duration::from_millis(1),
                mean: Duration::from_millis(50),
            },
            loss: 0.01,
            duplicate: 0.01,
            ..Default::default()
        }
    }

    /// Checks probabilities and the region matrix.
    pub fn validate(&self) -> Result<(), String> {
        let prob = |name: &str, p: f64| {
            if (0.0..=1.0).contains(&p) {
                Ok(())
            } else {
                Err(format!("{name} = {p} is not a probability"))
            }
        };
        prob("loss", self.loss)?;
        prob("duplicate", self.duplicate)?;
        if let Some(g) = &self.gst {
            prob("gst.loss_before", g.loss_before)?;
        }
        if self.uplink == Some(0) {
            return Err("uplink bandwidth must be positive".into());
        }
        match &self.latency {
            LatencyModel::Uniform { min, max } if min > max => {
                Err("uniform latency has min > max".into())
            }
            LatencyModel::Regions(m) => {
                let r = m.names.len();
                if r == 0 {
                    return Err("region matrix has no regions".into());
                }
                if m.one_way.len() != r || m.one_way.iter().any(|row| row.len() != r) {
                    return Err(format!("region matrix must be {r}x{r}"));
                }
                if m.assignment.iter().any(|a| *a >= r) {
                    return Err("region assignment names a region that does not exist".into());
                }
                Ok(())
            }
            _ => Ok(()),
        }
    }

    /// The model in words, precise enough to quote in a report.
    pub fn describe(&self) -> String {
        let mut s = String::new();
        let ms = |d: &Duration| format!("{:.3} ms", d.as_secs_f64() * 1e3);
        let lat = match &self.latency {
            LatencyModel::Fixed(d) => format!("a fixed {}", ms(d)),
            LatencyModel::Uniform { min, max } => format!("uniform on [{}, {}]", ms(min), ms(max)),
            LatencyModel::ExpTail { min, mean } => {
                format!("{} plus an exponential tail of mean {}", ms(min), ms(mean))
            }
            LatencyModel::Regions(m) => {
                let mut t = format!(
                    "given by a {r}x{r} region matrix plus uniform jitter on [0, {}]; nodes are assigned to regions {}; one-way latencies:",
                    ms(&m.jitter),
                    if m.assignment.is_empty() {
                        "round-robin (node i in region i mod r)"
                    } else {
                        "explicitly"
                    },
                    r = m.names.len()
                );
                for (a, row) in m.one_way.iter().enumerate() {
                    let name = m.names.get(a).map(String::as_str).unwrap_or("?");
                    let cells: Vec<String> =
                        row.iter().map(|d| format!("{}", d.as_millis())).collect();
                    let _ = write!(t, " {name}→[{}] ms;", cells.join(", "));
                }
                t
            }
        };
        let _ = write!(
            s,
            "Each copy of a message (one per recipient; a broadcast to k nodes is k copies) has a one-way \
             in-flight delay {lat}, sampled independently per copy"
        );
        if self.jitter > Duration::ZERO {
            let _ = write!(s, ", plus uniform jitter on [0, {}]", ms(&self.jitter));
        }
        let _ = write!(
            s,
            ". Copies are lost independently with probability {} and a copy that is not lost is duplicated with \
             probability {} (the duplicate draws its own delay); there is no FIFO guarantee, so random delays \
             reorder messages. ",
            self.loss, self.duplicate
        );
        match self.uplink {
            None => s.push_str("Bandwidth is unlimited. "),
            Some(b) => {
                let _ = write!(
                    s,
                    "Each node has an uplink of {b} bytes/s (unless overridden per node): a copy of w bytes \
                     (WireMessage::wire_size) occupies the sender's uplink for w/{b} s, copies of one send are \
                     serialised one after another (starting with the sender's successor in id order), the uplink \
                     stays busy until its queue drains, and the in-flight delay starts once a copy is fully \
                     serialised. Downlinks are not modelled. "
                );
            }
        }
        s.push_str(
            "A copy leaves its sender once every Persist the sender emitted before it is durable (fsync model); \
             a copy to oneself arrives at its departure time without loss or delay. Scheduled link faults in \
             force when the sender emits a copy apply to it on top of everything else, GST included: a \
             partition drops it, a clog adds its extra delay, a lossy link adds its loss probability; copies \
             already in flight are not affected. A copy from a sender that crashed before its departure is never delivered, and a \
             copy to a crashed node is dropped on arrival; a copy to a paused node is queued and handled when \
             the pause ends. ",
        );
        match &self.gst {
            None => s.push_str(
                "There is no global stabilisation time: the model above holds throughout.",
            ),
            Some(g) => {
                let _ = write!(
                    s,
                    "Global stabilisation time is {}: copies sent before it are additionally lost with probability \
                     {} and delayed by a uniform extra on [0, {}], but those that survive arrive by GST + {} at the \
                     latest; from GST on no copy is lost and every in-flight delay is capped at {}.",
                    g.at,
                    g.loss_before,
                    ms(&g.extra_delay_before),
                    ms(&g.delta),
                    ms(&g.delta)
                );
            }
        }
        s
    }
}

/// One planned delivery of a copy.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct Arrival {
    pub at: u64,
    pub to: u32,
}

/// Why copies were dropped while planning a send.
#[derive(Default)]
pub(crate) struct PlanDrops {
    pub lost: u64,
    pub partitioned: u64,
    pub duplicated: u64,
}

/// The mutable network: RNG, uplink queues, active partitions.
pub(crate) struct Network {
    pub cfg: NetworkConfig,
    pub rng: Rng,
    /// When each node's uplink becomes idle (ns).
    pub uplink_free: Vec<u64>,
    /// Bytes per second of each node's uplink, 0 for infinite.
    pub uplink_bw: Vec<u64>,
    region: Vec<u32>,
    region_ns: Vec<u64>,
    regions: usize,
    pub partitions: Partitions,
}

fn nanos(d: Duration) -> u64 {
    u64::try_from(d.as_nanos()).unwrap_or(u64::MAX)
}

impl Network {
    pub fn new(cfg: NetworkConfig, n: usize, rng: Rng) -> Network {
        let (region, region_ns, regions) = match &cfg.latency {
            LatencyModel::Regions(m) => {
                let r = m.names.len();
                let region = (0..n).map(|i| m.region_of(i) as u32).collect();
                let ns = m
                    .one_way
                    .iter()
                    .flat_map(|row| row.iter().map(|d| nanos(*d)))
                    .collect();
                (region, ns, r)
            }
            _ => (Vec::new(), Vec::new(), 0),
        };
        let bw = cfg.uplink.unwrap_or(0);
        Network {
            uplink_free: vec![0; n],
            uplink_bw: vec![bw; n],
            region,
            region_ns,
            regions,
            partitions: Partitions::new(n),
            cfg,
            rng,
        }
    }

    /// Samples the in-flight delay of one copy (latency + jitter), in ns.
    #[inline]
    fn delay(&mut self, from: u32, to: u32) -> u64 {
        let base = match &self.cfg.latency {
            LatencyModel::Fixed(d) => nanos(*d),
            LatencyModel::Uniform { min, max } => {
                let lo = nanos(*min);
                lo + uniform_ns(&mut self.rng, nanos(*max).saturating_sub(lo))
            }
            LatencyModel::ExpTail { min, mean } => {
                let u = unit(&mut self.rng);
                let tail = -(1.0 - u).ln() * mean.as_nanos() as f64;
                nanos(*min).saturating_add(tail as u64)
            }
            LatencyModel::Regions(m) => {
                let a = self.region.get(from as usize).copied().unwrap_or(0) as usize;
                let b = self.region.get(to as usize).copied().unwrap_or(0) as usize;
                let j = nanos(m.jitter);
                let base = self
                    .region_ns
                    .get(a * self.regions + b)
                    .copied()
                    .unwrap_or(0);
                base + uniform_ns(&mut self.rng, j)
            }
        };
        if self.cfg.jitter.is_zero() {
            base
        } else {
            base + uniform_ns(&mut self.rng, nanos(self.cfg.jitter))
        }
    }

    /// Plans the copies of one send: pushes the arrival of every copy that is
    /// not lost onto `out` (unsorted). `recipients` are in ascending id order.
    pub fn plan(
        &mut self,
        from: u32,
        depart: u64,
        size: u64,
        recipients: &[u32],
        out: &mut Vec<Arrival>,
        drops: &mut PlanDrops,
    ) {
        let bw = self.uplink_bw.get(from as usize).copied().unwrap_or(0);
        let gst = self.cfg.gst.as_ref().map(|g| {
            (
                g.at.as_nanos(),
                g.loss_before,
                nanos(g.extra_delay_before),
                nanos(g.delta),
            )
        });
        let (loss, dup) = (self.cfg.loss, self.cfg.duplicate);
        let partitioned = !self.partitions.is_empty();
        // With a finite uplink, copies serialise starting with the sender's
        // successor so that no id is systematically first.
        let start = if bw > 0 {
            recipients.partition_point(|to| *to <= from)
        } else {
            0
        };
        let (tail, head) = recipients.split_at(start);
        let ser = if bw > 0 {
            ((size as u128 * 1_000_000_000).div_ceil(bw as u128)) as u64
        } else {
            0
        };
        for &to in head.iter().chain(tail) {
            if to == from {
                out.push(Arrival { at: depart, to });
                continue;
            }
            let sent = if bw > 0 {
                let slot = self.uplink_free.get_mut(from as usize);
                let free = slot.as_ref().map_or(0, |f| **f);
                let done = depart.max(free).saturating_add(ser);
                if let Some(f) = slot {
                    *f = done;
                }
                done
            } else {
                depart
            };
            let mut link = Verdict::default();
            if partitioned {
                link = self.partitions.verdict(from, to);
                if link.blocked {
                    drops.partitioned += 1;
                    continue;
                }
            }
            let mut p = loss;
            let mut extra = 0;
            let mut cap = u64::MAX;
            if let Some((at, loss_before, extra_before, delta)) = gst {
                if sent < at {
                    p = 1.0 - (1.0 - loss) * (1.0 - loss_before);
                    extra = extra_before;
                    cap = at.saturating_add(delta);
                } else {
                    p = 0.0;
                    cap = sent.saturating_add(delta);
                }
            }
            if link.loss > 0.0 {
                p = 1.0 - (1.0 - p) * (1.0 - link.loss);
            }
            if p > 0.0 && chance(&mut self.rng, p) {
                drops.lost += 1;
                continue;
            }
            let arrive = |net: &mut Network| {
                let mut d = net.delay(from, to);
                if extra > 0 {
                    d = d.saturating_add(uniform_ns(&mut net.rng, extra));
                }
                sent.saturating_add(d)
                    .min(cap)
                    .max(sent)
                    .saturating_add(link.delay)
            };
            let at = arrive(self);
            out.push(Arrival { at, to });
            if dup > 0.0 && chance(&mut self.rng, dup) {
                drops.duplicated += 1;
                let at = arrive(self);
                out.push(Arrival { at, to });
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn describe_mentions_every_knob() {
        let mut cfg = NetworkConfig::wan();
        cfg.uplink = Some(10_000_000);
        cfg.gst = Some(Gst {
            at: Time::from_secs(5),
            loss_before: 0.5,
            extra_delay_before: Duration::from_millis(500),
            delta: Duration::from_millis(100),
        });
        let d = cfg.describe();
        for needle in [
            "exponential tail",
            "0.01",
            "10000000 bytes/s",
            "Global stabilisation time is 5.000000s",
            "100.000 ms",
        ] {
            assert!(d.contains(needle), "{needle} missing from {d}");
        }
        let r = NetworkConfig {
            latency: LatencyModel::Regions(RegionMatrix::five_regions()),
            ..Default::default()
        };
        assert!(r.validate().is_ok());
        assert!(r.describe().contains("europe→[40, 70, 1, 110, 95] ms"));
    }

    #[test]
    fn validation_rejects_nonsense() {
        assert!(
            NetworkConfig {
                loss: 1.5,
                ..Default::default()
            }
            .validate()
            .is_err()
        );
        let mut m = RegionMatrix::five_regions();
        m.one_way.pop();
        assert!(
            NetworkConfig {
                latency: LatencyModel::Regions(m),
                ..Default::default()
            }
            .validate()
            .is_err()
        );
    }
}
