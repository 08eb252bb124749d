//! BootNotification decisions and what a station may send before it is accepted.

use crate::station::Registration;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BootPolicy {
    /// Heartbeat interval handed to accepted stations, in seconds. API Gateway closes a
    /// WebSocket after 10 idle minutes, so it must stay below 600.
    pub heartbeat_interval: u32,
    /// How long a Pending or Rejected station waits before it boots again, in seconds.
    pub retry_interval: u32,
}

impl Default for BootPolicy {
    fn default() -> Self {
        Self {
            heartbeat_interval: 300,
            retry_interval: 60,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BootDecision {
    pub status: Registration,
    /// Heartbeat interval when Accepted, otherwise the minimum wait before the next boot.
    pub interval: u32,
}

impl BootPolicy {
    pub fn decide(&self, registration: Registration) -> BootDecision {
        let interval = match registration {
            Registration::Accepted => self.heartbeat_interval,
            Registration::Pending | Registration::Rejected => self.retry_interval,
        };
        BootDecision {
            status: registration,
            interval,
        }
    }
}

/// Whether a station whose last boot got `boot` may send a request other than BootNotification.
/// Until it is Accepted it may not (OCPP 1.6 section 4.2; 2.0.1 B02.FR.09 and B03.FR.07, which
/// answer such a CALL with a SecurityError). A station that never booted counts as not accepted.
pub fn may_send_requests(boot: Option<Registration>) -> bool {
    boot == Some(Registration::Accepted)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepted_stations_get_the_heartbeat_interval_others_the_retry_interval() {
        let policy = BootPolicy {
            heartbeat_interval: 240,
            retry_interval: 30,
        };
        assert_eq!(
            policy.decide(Registration::Accepted),
            BootDecision {
                status: Registration::Accepted,
                interval: 240
            }
        );
        assert_eq!(
            policy.decide(Registration::Pending),
            BootDecision {
                status: Registration::Pending,
                interval: 30
            }
        );
        assert_eq!(
            policy.decide(Registration::Rejected),
            BootDecision {
                status: Registration::Rejected,
                interval: 30
            }
        );
    }

    #[test]
    fn only_accepted_stations_may_send_requests() {
        assert!(may_send_requests(Some(Registration::Accepted)));
        assert!(!may_send_requests(Some(Registration::Pending)));
        assert!(!may_send_requests(Some(Registration::Rejected)));
        assert!(!may_send_requests(None));
    }
}
