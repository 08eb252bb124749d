//! Who a verified token speaks for.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// What a person may do in the app API. Comes from the issuer's groups claim (Cognito user pool groups).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// A person who charges: group `drivers`.
    Driver,
    /// A person who runs stations for an organisation: group `operators`.
    Operator,
    /// A person who administers the CSMS: group `admins`.
    Admin,
}

impl Role {
    /// Every role, in order.
    pub const ALL: [Role; 3] = [Role::Driver, Role::Operator, Role::Admin];

    /// The role a group grants, if any: `drivers`, `operators`, `admins` (exact, case-sensitive, as
    /// Cognito group names are).
    pub fn from_group(group: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|role| role.group() == group)
    }

    /// The name of the group that grants this role.
    pub fn group(self) -> &'static str {
        match self {
            Role::Driver => "drivers",
            Role::Operator => "operators",
            Role::Admin => "admins",
        }
    }
}

/// The person a verified token speaks for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Principal {
    /// The token's `sub`: the issuer's stable id of the person (a UUID in Cognito).
    pub subject: String,
    /// Roles from the groups claim; unknown groups are ignored. May be empty: the API decides what a
    /// person without a role may do.
    pub roles: BTreeSet<Role>,
    /// The `email` claim, when present and a non-empty string.
    pub email: Option<String>,
}

impl Principal {
    /// Whether the principal has `role`.
    pub fn has_role(&self, role: Role) -> bool {
        self.roles.contains(&role)
    }

    /// Builds the principal from verified claims. The caller has checked that `sub` is a non-empty string.
    pub(crate) fn from_claims(subject: String, claims: &Map<String, Value>, groups_claim: &str) -> Principal {
        Principal {
            subject,
            roles: roles_from(claims.get(groups_claim)),
            email: non_empty_string(claims.get("email")),
        }
    }
}

/// Groups as Cognito puts them (an array of strings), or one string of space-separated groups as some
/// other issuers do. Anything else, and unknown group names, grant nothing.
fn roles_from(groups: Option<&Value>) -> BTreeSet<Role> {
    match groups {
        Some(Value::Array(items)) => items
            .iter()
            .filter_map(Value::as_str)
            .filter_map(Role::from_group)
            .collect(),
        Some(Value::String(s)) => s.split_whitespace().filter_map(Role::from_group).collect(),
        _ => BTreeSet::new(),
    }
}

fn non_empty_string(value: Option<&Value>) -> Option<String> {
    value
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn claims(v: Value) -> Map<String, Value> {
        v.as_object().cloned().unwrap()
    }

    #[test]
    fn roles_come_from_known_groups_only() {
        let c = claims(json!({"cognito:groups": ["drivers", "admins", "Admins", "staff", 7]}));
        let p = Principal::from_claims("u".into(), &c, "cognito:groups");
        assert_eq!(p.roles, BTreeSet::from([Role::Driver, Role::Admin]));
        assert!(p.has_role(Role::Admin) && !p.has_role(Role::Operator));
    }

    #[test]
    fn groups_as_a_space_separated_string_are_understood() {
        let c = claims(json!({"groups": "operators drivers"}));
        let p = Principal::from_claims("u".into(), &c, "groups");
        assert_eq!(p.roles, BTreeSet::from([Role::Driver, Role::Operator]));
    }

    #[test]
    fn no_groups_means_no_roles_and_empty_strings_are_absent() {
        let c = claims(json!({"cognito:groups": {"not": "a list"}, "custom:org": "", "email": 5}));
        let p = Principal::from_claims("u".into(), &c, "cognito:groups");
        assert!(p.roles.is_empty());
        assert_eq!(p.email, None);
    }

    #[test]
    fn role_group_names_round_trip() {
        for role in Role::ALL {
            assert_eq!(Role::from_group(role.group()), Some(role));
        }
        assert_eq!(serde_json::to_value(Role::Operator).unwrap(), json!("operator"));
    }
}
