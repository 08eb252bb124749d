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
    pub session_events_queue_url: Option<String>,
    pub session_completed_queue_url: Option<String>,
    pub commands_table: Option<String>,
    pub commands_queue_url: Option<String>,
    pub command_deadlines_queue_url: Option<String>,
    pub organisations_table: Option<String>,
    /// Rate counts and pending commands (issue 10's limits).
    pub limits_table: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("HEARTBEAT_INTERVAL_SECONDS must be a whole number of seconds from 1 to 599, got {0:?}")]
    HeartbeatInterval(String),
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
            session_events_queue_url: lookup("SESSION_EVENTS_QUEUE_URL"),
            session_completed_queue_url: lookup("SESSION_COMPLETED_QUEUE_URL"),
            commands_table: lookup("COMMANDS_TABLE"),
            commands_queue_url: lookup("COMMANDS_QUEUE_URL"),
            command_deadlines_queue_url: lookup("COMMAND_DEADLINES_QUEUE_URL"),
            organisations_table: lookup("ORGANISATIONS_TABLE"),
            limits_table: lookup("LIMITS_TABLE"),
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
}
