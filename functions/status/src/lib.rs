//! status (in progress)
