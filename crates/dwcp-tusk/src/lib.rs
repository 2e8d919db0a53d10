//! # dwcp-tusk — Tusk ordering on the Narwhal DAG (in progress)
