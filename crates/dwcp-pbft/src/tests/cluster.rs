//! Small simulated clusters (the integration suite in `tests/` goes wider).
