//! Finding the bad items of a batch that failed a combined check.
//!
//! For checks where "every item valid" implies "the combined check passes"
//! (sums of BLS signatures on one message), a failing set contains a bad item
//! in at least one half. Splitting recursively, accepting halves that pass
//! wholesale, finds `b` bad items among `m` with `O(b log m)` checks instead
//! of `m`.

/// Splits `items` into `(good, bad)`: `bad` are the single items that fail
/// `ok` on their own, `good` the union of subsets that passed as a whole.
/// `ok` is only called on non-empty subsets. If `known_bad`, `items` is
/// known to fail as a whole and is not re-checked. Both lists keep the input
/// order.
pub(crate) fn bisect<T: Copy>(
    items: &[T],
    known_bad: bool,
    mut ok: impl FnMut(&[T]) -> bool,
) -> (Vec<T>, Vec<T>) {
    let mut good = Vec::with_capacity(items.len());
    let mut bad = Vec::new();
    // Depth-first, left before right, so the output keeps the input order.
    // Each entry is a subset and whether it is already known to fail (its
    // parent failed and its left sibling passed, or it was checked).
    let mut stack = vec![(items, known_bad)];
    while let Some((set, known_bad)) = stack.pop() {
        if set.is_empty() {
            continue;
        }
        if !known_bad && ok(set) {
            good.extend_from_slice(set);
            continue;
        }
        if let [single] = set {
            bad.push(*single);
            continue;
        }
        let (left, right) = set.split_at(set.len() / 2);
        if ok(left) {
            good.extend_from_slice(left);
            stack.push((right, true));
        } else {
            stack.push((right, false));
            stack.push((left, true));
        }
    }
    (good, bad)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::Cell;

    fn run(n: u32, bad: &[u32]) -> (Vec<u32>, Vec<u32>, usize) {
        let items: Vec<u32> = (0..n).collect();
        let calls = Cell::new(0);
        let (g, b) = bisect(&items, false, |s| {
            calls.set(calls.get() + 1);
            s.iter().all(|i| !bad.contains(i))
        });
        (g, b, calls.get())
    }

    #[test]
    fn finds_exactly_the_bad_items_in_order() {
        for n in 1..20u32 {
            for bad in [
                vec![],
                vec![0],
                vec![n - 1],
                vec![0, n - 1],
                (0..n).step_by(3).collect(),
            ] {
                let (g, b, _) = run(n, &bad);
                let mut expected_bad = bad.clone();
                expected_bad.dedup();
                assert_eq!(b, expected_bad, "n={n}");
                let expected_good: Vec<u32> = (0..n).filter(|i| !bad.contains(i)).collect();
                assert_eq!(g, expected_good, "n={n}");
            }
        }
    }

    #[test]
    fn few_checks_for_one_bad_item() {
        let (_, b, calls) = run(64, &[37]);
        assert_eq!(b, vec![37]);
        assert!(calls <= 1 + 2 * 6, "{calls} checks");
        let (_, _, calls) = run(64, &[]);
        assert_eq!(calls, 1);
    }

    #[test]
    fn known_bad_skips_the_first_check() {
        let items = [1u32, 2];
        let (g, b) = bisect(&items, true, |s| s != [2]);
        assert_eq!((g, b), (vec![1], vec![2]));
    }
}
