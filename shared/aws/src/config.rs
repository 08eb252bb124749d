//! Names of the resources a function uses, from its environment (set by the CDK app, or by the
//! local stand-in from the same template). A function gets only the variables it needs.

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Config {
    pub stations_table: Option<String>,
    pub connections_table: Option<String>,
    pub availability_table: Option<String>,
    pub status_history_table: Option<String>,
    pub station_events_table: Option<String>,
    pub status_queue_url: Option<String>,
    /// The WebSocket API's `@connections` callback URL.
    pub connections_endpoint: Option<String>,
    pub heartbeat_interval: u32,
    pub tokens_table: Option<String>,
    pub transactions_table: Option<String>,
    pub anomalies_table: Option<String>,
    pub sessions_table: Option<String>,
    pub meter_series_table: Option<String>,
    pub session_events_queue_url: Option<String>,
    pub session_completed_queue_url: Option<String>,
    pub commands_table: Option<String>,
    pub commands_queue_url: Option<String>,
    pub command_deadlines_queue_url: Option<String>,
    pub organisations_table: Option<String>,
    /// Rate counts and pending commands (issue 10's limits).
    pub limits_table: Option<String>,
    pub reservations_table: Option<String>,
    pub reservation_events_queue_url: Option<String>,
    /// Where the expiry schedules go and whom they signal.
    pub reservation_schedules: crate::reservations::ScheduleTarget,
    pub reservation_settings: csms_domain::reservation::ReservationSettings,
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("HEARTBEAT_INTERVAL_SECONDS must be a whole number of seconds from 1 to 599, got {0:?}")]
    HeartbeatInterval(String),
    #[error("RESERVATION_MAX_MINUTES must be a whole number of minutes from 1 to {max}, got {0:?}", max = csms_domain::reservation::ReservationSettings::MAX_MAX_MINUTES)]
    ReservationMaxMinutes(String),
    #[error("RESERVATION_ONE_PER_DRIVER must be true or false, got {0:?}")]
    ReservationOnePerDriver(String),
}

impl Config {
    pub const DEFAULT_HEARTBEAT_INTERVAL: u32 = 300;

    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let heartbeat_interval = match lookup("HEARTBEAT_INTERVAL_SECONDS") {
            None => Self::DEFAULT_HEARTBEAT_INTERVAL,
            // API Gateway drops a WebSocket after 10 idle minutes.
            Some(raw) => raw
                .parse()
                .ok()
                .filter(|s| (1..600).contains(s))
                .ok_or(ConfigError::HeartbeatInterval(raw))?,
        };
        let defaults = csms_domain::reservation::ReservationSettings::default();
        let max_duration = match lookup("RESERVATION_MAX_MINUTES") {
            None => defaults.max_duration,
            Some(raw) => raw
                .parse::<i64>()
                .ok()
                .filter(|m| (1..=csms_domain::reservation::ReservationSettings::MAX_MAX_MINUTES).contains(m))
                .map(chrono::Duration::minutes)
                .ok_or(ConfigError::ReservationMaxMinutes(raw))?,
        };
        let one_per_driver = match lookup("RESERVATION_ONE_PER_DRIVER") {
            None => defaults.one_per_driver,
            Some(raw) => match raw.as_str() {
                "true" => true,
                "false" => false,
                _ => return Err(ConfigError::ReservationOnePerDriver(raw)),
            },
        };
        Ok(Self {
            stations_table: lookup("STATIONS_TABLE"),
            connections_table: lookup("CONNECTIONS_TABLE"),
            availability_table: lookup("AVAILABILITY_TABLE"),
            status_history_table: lookup("STATUS_HISTORY_TABLE"),
            station_events_table: lookup("STATION_EVENTS_TABLE"),
            status_queue_url: lookup("STATUS_QUEUE_URL"),
            connections_endpoint: lookup("CONNECTIONS_ENDPOINT"),
            heartbeat_interval,
            tokens_table: lookup("TOKENS_TABLE"),
            transactions_table: lookup("TRANSACTIONS_TABLE"),
            anomalies_table: lookup("ANOMALIES_TABLE"),
            sessions_table: lookup("SESSIONS_TABLE"),
            meter_series_table: lookup("METER_SERIES_TABLE"),
            session_events_queue_url: lookup("SESSION_EVENTS_QUEUE_URL"),
            session_completed_queue_url: lookup("SESSION_COMPLETED_QUEUE_URL"),
            commands_table: lookup("COMMANDS_TABLE"),
            commands_queue_url: lookup("COMMANDS_QUEUE_URL"),
            command_deadlines_queue_url: lookup("COMMAND_DEADLINES_QUEUE_URL"),
            organisations_table: lookup("ORGANISATIONS_TABLE"),
            limits_table: lookup("LIMITS_TABLE"),
            reservations_table: lookup("RESERVATIONS_TABLE"),
            reservation_events_queue_url: lookup("RESERVATION_EVENTS_QUEUE_URL"),
            reservation_schedules: crate::reservations::ScheduleTarget {
                group: lookup("RESERVATION_SCHEDULE_GROUP"),
                queue_arn: lookup("RESERVATION_EVENTS_QUEUE_ARN"),
                role_arn: lookup("RESERVATION_SCHEDULER_ROLE_ARN"),
                dead_letter_arn: lookup("RESERVATION_EXPIRY_DLQ_ARN"),
            },
            reservation_settings: csms_domain::reservation::ReservationSettings {
                max_duration,
                one_per_driver,
            },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn config(vars: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let map: HashMap<String, String> = vars.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        Config::from_lookup(|k| map.get(k).cloned())
    }

    #[test]
    fn reads_names_and_checks_the_heartbeat_interval() {
        let c = config(&[("STATIONS_TABLE", "s"), ("HEARTBEAT_INTERVAL_SECONDS", "120")]).unwrap();
        assert_eq!(c.stations_table.as_deref(), Some("s"));
        assert_eq!(c.heartbeat_interval, 120);
        assert_eq!(config(&[]).unwrap().heartbeat_interval, 300);
        for bad in ["0", "600", "-1", "abc"] {
            assert!(config(&[("HEARTBEAT_INTERVAL_SECONDS", bad)]).is_err(), "{bad}");
        }
    }

    #[test]
    fn reservation_settings_are_checked_at_start() {
        let c = config(&[
            ("RESERVATION_MAX_MINUTES", "45"),
            ("RESERVATION_ONE_PER_DRIVER", "false"),
        ])
        .unwrap();
        assert_eq!(c.reservation_settings.max_duration, chrono::Duration::minutes(45));
        assert!(!c.reservation_settings.one_per_driver);
        assert_eq!(config(&[]).unwrap().reservation_settings, Default::default());
        for bad in ["0", "1441", "ten"] {
            let e = config(&[("RESERVATION_MAX_MINUTES", bad)]).unwrap_err();
            assert!(e.to_string().starts_with("RESERVATION_MAX_MINUTES"), "{e}");
        }
        assert!(config(&[("RESERVATION_ONE_PER_DRIVER", "yes")]).is_err());
    }
}
