//! Checked values: a handler can only hold a `Username`, `Email`, `Password`,
//! `Price` or id that passed its rules ("parse, don't validate").

use crate::error::ApiError;

/// 3–32 of `[a-z0-9_]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Username(String);

impl Username {
    pub fn parse(raw: &str) -> Result<Self, ApiError> {
        let name = raw.trim();
        if !(3..=32).contains(&name.len()) {
            return Err(ApiError::invalid(
                "username",
                "A username is 3 to 32 characters long.",
            ));
        }
        if !name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
        {
            return Err(ApiError::invalid(
                "username",
                "A username uses only lowercase letters, digits and underscores.",
            ));
        }
        Ok(Self(name.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A plausible e-mail address, kept lowercase so uniqueness ignores case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Email(String);

impl Email {
    pub fn parse(raw: &str) -> Result<Self, ApiError> {
        let email = raw.trim().to_lowercase();
        let bad = || ApiError::invalid("email", "That is not a valid e-mail address.");
        if email.len() > 254 || email.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(bad());
        }
        let (local, domain) = email.split_once('@').ok_or_else(bad)?;
        if local.is_empty()
            || domain.contains('@')
            || !domain.contains('.')
            || domain.starts_with('.')
            || domain.ends_with('.')
            || domain.contains("..")
        {
            return Err(bad());
        }
        Ok(Self(email))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A password of 8 to 256 characters (the upper bound keeps hashing cheap).
pub struct Password(String);

impl Password {
    pub fn parse(raw: String) -> Result<Self, ApiError> {
        let count = raw.chars().count();
        if count < 8 {
            return Err(ApiError::invalid(
                "password",
                "A password is at least 8 characters long.",
            ));
        }
        if count > 256 {
            return Err(ApiError::invalid(
                "password",
                "A password is at most 256 characters long.",
            ));
        }
        Ok(Self(raw))
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Password {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Password(..)")
    }
}

/// A room's price: a whole number of coins, 0 to 1,000,000.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Price(i64);

impl Price {
    pub const MAX: i64 = 1_000_000;

    pub fn parse(raw: &serde_json::Value) -> Result<Self, ApiError> {
        let bad = || {
            ApiError::invalid(
                "price",
                format!(
                    "A price is a whole number of coins from 0 to {}.",
                    Self::MAX
                ),
            )
        };
        let value = raw.as_i64().ok_or_else(bad)?;
        if !(0..=Self::MAX).contains(&value) {
            return Err(bad());
        }
        Ok(Self(value))
    }

    pub fn coins(self) -> i64 {
        self.0
    }
}

/// Longest chat message, in characters.
pub const MAX_CHAT_CHARS: usize = 500;

/// Trims a free-text field and checks its length in characters.
pub fn text_field(
    raw: &str,
    field: &'static str,
    min: usize,
    max: usize,
) -> Result<String, ApiError> {
    let text = raw.trim();
    let count = text.chars().count();
    if count < min || count > max {
        return Err(ApiError::invalid(
            field,
            if min > 0 {
                format!("{field} is {min} to {max} characters long.")
            } else {
                format!("{field} is at most {max} characters long.")
            },
        ));
    }
    if text.chars().any(|c| c.is_control() && c != '\n') {
        return Err(ApiError::invalid(
            field,
            format!("{field} may not contain control characters."),
        ));
    }
    Ok(text.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn usernames_follow_the_contract() {
        assert!(Username::parse("ann_1").is_ok());
        assert_eq!(Username::parse("  bob  ").unwrap().as_str(), "bob");
        for bad in ["ab", "Ann", "a-b", "", &"a".repeat(33), "añx"] {
            let err = Username::parse(bad).unwrap_err();
            assert_eq!(err.body()["error"]["field"], "username", "{bad}");
        }
    }

    #[test]
    fn emails_are_lowercased_and_checked() {
        assert_eq!(
            Email::parse("Ann@Example.COM").unwrap().as_str(),
            "ann@example.com"
        );
        for bad in [
            "ann", "ann@", "@x.io", "a@b", "a b@x.io", "a@x..io", "a@@x.io",
        ] {
            assert!(Email::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn passwords_need_eight_characters() {
        assert!(Password::parse("1234567".into()).is_err());
        assert!(Password::parse("12345678".into()).is_ok());
        assert!(Password::parse("x".repeat(257)).is_err());
        assert_eq!(
            format!("{:?}", Password::parse("secret-pw".into()).unwrap()),
            "Password(..)"
        );
    }

    #[test]
    fn prices_are_whole_coins_in_range() {
        assert_eq!(Price::parse(&json!(0)).unwrap().coins(), 0);
        assert_eq!(Price::parse(&json!(1_000_000)).unwrap().coins(), 1_000_000);
        for bad in [
            json!(-1),
            json!(1_000_001),
            json!(1.5),
            json!("5"),
            json!(null),
        ] {
            assert!(Price::parse(&bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn text_fields_are_trimmed_and_bounded() {
        assert_eq!(text_field("  hi ", "title", 1, 5).unwrap(), "hi");
        assert!(text_field("   ", "title", 1, 5).is_err());
        assert!(text_field("toolong", "title", 1, 5).is_err());
        assert!(text_field("a\u{0}b", "title", 1, 5).is_err());
    }
}
