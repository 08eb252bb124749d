//! Station passwords (OCPP security profile 1/2 Basic auth). Only Argon2id hashes are stored.

use argon2::{Argon2, PasswordHasher, PasswordVerifier};
use std::fmt;

/// A station password as OCPP allows it: 16 to 40 characters from 2.0.1's passwordString set
/// (`a-zA-Z0-9*-_=:+|@.`). 1.6 AuthorizationKeys of 16-20 bytes fit the same rule.
#[derive(Clone, PartialEq, Eq)]
pub struct Password(String);

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum PasswordError {
    #[error("password must be 16 to 40 characters long")]
    Length,
    #[error("password may only contain a-z A-Z 0-9 and * - _ = : + | @ .")]
    InvalidCharacter,
    #[error("could not hash the password: {0}")]
    Hashing(String),
}

impl Password {
    /// Generated passwords are 20 characters: the most a 1.6 AuthorizationKey holds, and
    /// 20 alphanumerics carry about 119 bits of entropy.
    pub const GENERATED_LEN: usize = 20;

    pub fn parse(raw: &str) -> Result<Self, PasswordError> {
        if !(16..=40).contains(&raw.chars().count()) {
            return Err(PasswordError::Length);
        }
        let allowed = |c: char| c.is_ascii_alphanumeric() || "*-_=:+|@.".contains(c);
        if !raw.chars().all(allowed) {
            return Err(PasswordError::InvalidCharacter);
        }
        Ok(Self(raw.to_owned()))
    }

    /// A strong random password from the operating system's generator.
    pub fn generate() -> Self {
        const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
        let mut out = String::with_capacity(Self::GENERATED_LEN);
        while out.len() < Self::GENERATED_LEN {
            let mut byte = [0u8; 1];
            getrandom::fill(&mut byte).expect("the operating system's random generator is available");
            // Rejection sampling keeps every character equally likely (248 = 4 * 62).
            if byte[0] < 248 {
                out.push(ALPHABET[(byte[0] % 62) as usize] as char);
            }
        }
        Self(out)
    }

    /// The plaintext, to show the operator once or to send to the station. Never log it.
    pub fn expose(&self) -> &str {
        &self.0
    }

    pub fn hash(&self) -> Result<PasswordHash, PasswordError> {
        let hash = Argon2::default()
            .hash_password(self.0.as_bytes())
            .map_err(|e| PasswordError::Hashing(e.to_string()))?;
        Ok(PasswordHash(hash.to_string()))
    }
}

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Password(***)")
    }
}

/// An Argon2id hash in PHC string form (`$argon2id$v=19$m=19456,t=2,p=1$...`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PasswordHash(String);

impl PasswordHash {
    pub fn from_stored(phc: String) -> Self {
        Self(phc)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Constant-time check of a candidate password; a malformed stored hash never matches.
    pub fn verify(&self, candidate: &str) -> bool {
        Argon2::default()
            .verify_password(candidate.as_bytes(), self.0.as_str())
            .is_ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn password_rules() {
        assert!(Password::parse("0123456789abcdef").is_ok());
        assert!(Password::parse(&"a".repeat(40)).is_ok());
        assert_eq!(Password::parse("short").unwrap_err(), PasswordError::Length);
        assert_eq!(Password::parse(&"a".repeat(41)).unwrap_err(), PasswordError::Length);
        assert_eq!(
            Password::parse("0123456789abcde!").unwrap_err(),
            PasswordError::InvalidCharacter
        );
        assert!(Password::parse("a*b-c_d=e:f+g|h@i.j").is_ok());
    }

    #[test]
    fn generated_passwords_follow_the_rules_and_differ() {
        let a = Password::generate();
        let b = Password::generate();
        assert_eq!(a.expose().len(), Password::GENERATED_LEN);
        assert!(Password::parse(a.expose()).is_ok());
        assert_ne!(a, b);
    }

    #[test]
    fn hashes_are_argon2id_and_verify() {
        let password = Password::parse("correct-horse-battery").unwrap();
        let hash = password.hash().unwrap();
        assert!(hash.as_str().starts_with("$argon2id$"));
        assert!(!hash.as_str().contains("correct-horse-battery"));
        assert!(hash.verify("correct-horse-battery"));
        assert!(!hash.verify("correct-horse-batterx"));
        assert!(!PasswordHash::from_stored("garbage".into()).verify("correct-horse-battery"));
    }

    #[test]
    fn debug_output_hides_the_password() {
        let password = Password::parse("correct-horse-battery").unwrap();
        assert_eq!(format!("{password:?}"), "Password(***)");
    }
}
