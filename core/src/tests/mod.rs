//! Protocol scenarios on a simulated clock, and machine-wide properties.

mod client;
mod properties;
mod util;
