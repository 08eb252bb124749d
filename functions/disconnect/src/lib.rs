//! disconnect (in progress)
