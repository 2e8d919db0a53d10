//! The measurements behind the lab experiments `maddpg-spread`,
//! `maddpg-nodealloc` and `maddpg-speed`: each is a function returning a
//! report struct; the lab only formats them.

pub mod nodealloc;
pub mod speed;
pub mod spread;
