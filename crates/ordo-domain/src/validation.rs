//! Field-level validation results. Parsing input yields either a domain value or a list of
//! `FieldError`s naming each bad field, so a client can fix all of them in one go.

use serde::Serialize;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct FieldError {
    /// JSON path of the field, e.g. `lines[2].quantity`.
    pub field: String,
    pub message: String,
}

impl FieldError {
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        FieldError { field: field.into(), message: message.into() }
    }
}

/// One or more fields failed validation; nothing was changed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid input: {}", summary(.0))]
pub struct Invalid(pub Vec<FieldError>);

fn summary(errors: &[FieldError]) -> String {
    errors.iter().map(|e| format!("{}: {}", e.field, e.message)).collect::<Vec<_>>().join("; ")
}

impl Invalid {
    pub fn field(field: impl Into<String>, message: impl Into<String>) -> Self {
        Invalid(vec![FieldError::new(field, message)])
    }
}

/// Collects field errors while a request is parsed field by field.
#[derive(Debug, Default)]
pub struct Violations(Vec<FieldError>);

impl Violations {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn add(&mut self, field: impl Into<String>, message: impl Into<String>) {
        self.0.push(FieldError::new(field, message));
    }

    pub fn push(&mut self, error: FieldError) {
        self.0.push(error);
    }

    /// Keeps the value when it parsed, records the error otherwise.
    pub fn check<T>(&mut self, result: Result<T, FieldError>) -> Option<T> {
        match result {
            Ok(value) => Some(value),
            Err(error) => {
                self.0.push(error);
                None
            }
        }
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn into_result(self) -> Result<(), Invalid> {
        if self.0.is_empty() { Ok(()) } else { Err(Invalid(self.0)) }
    }
}

/// A required, trimmed text field of bounded length.
pub fn required_text(field: &str, value: Option<&str>, max_chars: usize) -> Result<String, FieldError> {
    match value.map(str::trim) {
        None | Some("") => Err(FieldError::new(field, "is required")),
        Some(text) => bounded_text(field, text, max_chars),
    }
}

/// An optional text field: blank counts as absent.
pub fn optional_text(field: &str, value: Option<&str>, max_chars: usize) -> Result<Option<String>, FieldError> {
    match value.map(str::trim) {
        None | Some("") => Ok(None),
        Some(text) => bounded_text(field, text, max_chars).map(Some),
    }
}

fn bounded_text(field: &str, text: &str, max_chars: usize) -> Result<String, FieldError> {
    if text.chars().count() > max_chars {
        return Err(FieldError::new(field, format!("must be at most {max_chars} characters")));
    }
    if text.chars().any(|c| c.is_control() && c != '\n' && c != '\t') {
        return Err(FieldError::new(field, "must not contain control characters"));
    }
    Ok(text.to_string())
}

/// A code (SKU, customer code, warehouse code): letters, digits and `-_./`, no spaces.
pub fn code(field: &str, value: Option<&str>, max_chars: usize) -> Result<String, FieldError> {
    let text = required_text(field, value, max_chars)?;
    if text.chars().all(|c| c.is_alphanumeric() || matches!(c, '-' | '_' | '.' | '/')) {
        Ok(text)
    } else {
        Err(FieldError::new(field, "may contain only letters, digits and - _ . /"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_blank_required_field_is_reported_as_required() {
        let error = required_text("name", Some("   "), 10).unwrap_err();
        assert_eq!(error.message, "is required");
    }

    #[test]
    fn a_code_with_a_space_is_rejected() {
        assert!(code("sku", Some("AB 1"), 64).is_err());
        assert_eq!(code("sku", Some(" AB-1 "), 64).unwrap(), "AB-1");
    }

    #[test]
    fn text_longer_than_the_limit_is_rejected_by_characters_not_bytes() {
        assert!(required_text("name", Some("茶叶"), 2).is_ok());
        assert!(required_text("name", Some("茶叶茶"), 2).is_err());
    }
}
