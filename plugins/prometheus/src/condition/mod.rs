//! `successCondition` / `failureCondition`: the expressions Argo Rollouts users write, over
//! `result`, the value the query returned (see `crate::samples`).
//!
//! The language is the part of Argo's expr conditions that judges numbers: literals (`0.5`,
//! `1e-3`, `true`, `"text"`), `result`, indexing (`result[0]`, `result[-1]` for the last),
//! `+ - * /`, `< <= > >= == !=`, `&&`/`and`, `||`/`or`, `!`/`not`, parentheses, and the
//! functions `len(x)`, `isNaN(x)`, `isInf(x)`, `asFloat(s)`, `default(x, fallback)`,
//! `all(list, {test on #})` and `any(list, {test on #})`.

mod eval;
mod lex;
mod parse;

use std::fmt;

use waxwing_plugin_sdk::PluginError;

use crate::value::Value;
use eval::Failure;
use parse::Expr;

/// A condition text that cannot be parsed: where, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyntaxError {
    /// One-based, in characters.
    pub column: usize,
    pub message: String,
}

impl SyntaxError {
    fn at(text: &str, byte: usize, message: impl Into<String>) -> Self {
        Self {
            column: text[..byte].chars().count() + 1,
            message: message.into(),
        }
    }
}

/// A parsed condition, with the setting it came from for messages.
#[derive(Debug, Clone, PartialEq)]
pub struct Condition {
    field: &'static str,
    text: String,
    expr: Expr,
}

impl Condition {
    /// Parses the condition of the setting `field`.
    pub fn parse(field: &'static str, text: &str) -> Result<Self, PluginError> {
        let expr = parse::parse(text).map_err(|err| {
            PluginError::invalid_input(format!(
                "{field} \"{text}\" cannot be parsed at column {}: {}",
                err.column, err.message
            ))
        })?;
        Ok(Self {
            field,
            text: text.into(),
            expr,
        })
    }

    /// Whether the condition holds for `result`. Missing data (an empty result) is `not-ready`,
    /// since the next measurement may have it; a condition that does not fit the data is
    /// `invalid-input`.
    pub fn holds(&self, result: &Value) -> Result<bool, PluginError> {
        match eval::evaluate(&self.expr, &self.text, result) {
            Ok(Value::Bool(holds)) => Ok(holds),
            Ok(other) => Err(PluginError::invalid_input(format!(
                "{self} gives {other} ({}), not true or false: make it a comparison, as in {} < 1",
                other.kind(),
                self.text
            ))),
            Err(Failure::NoData(why)) => Err(PluginError::not_ready(format!(
                "cannot evaluate {self}: {why}; give missing data a value with default(...), as \
                 in default(result[0], 0), or test len(result) > 0 first"
            ))),
            Err(Failure::Mismatch(why)) => Err(PluginError::invalid_input(format!(
                "cannot evaluate {self}: {why}"
            ))),
        }
    }
}

/// `failureCondition "result[0] >= 0.2"`.
impl fmt::Display for Condition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} \"{}\"", self.field, self.text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_name_the_condition() {
        let err = Condition::parse("failureCondition", "result[0] >=").unwrap_err();
        assert_eq!(
            err,
            PluginError::invalid_input(
                "failureCondition \"result[0] >=\" cannot be parsed at column 13: expected a \
                 value, found the end of the condition"
            )
        );
        let condition = Condition::parse("successCondition", "result[0] < 0.05").unwrap();
        assert_eq!(
            condition.holds(&Value::List(vec![Value::Number(0.01)])),
            Ok(true)
        );
        assert_eq!(
            condition.holds(&Value::List(Vec::new())),
            Err(PluginError::not_ready(
                "cannot evaluate successCondition \"result[0] < 0.05\": the query returned no \
                 samples (result is empty); give missing data a value with default(...), as in \
                 default(result[0], 0), or test len(result) > 0 first"
            ))
        );
        let number = Condition::parse("successCondition", "result[0] * 2").unwrap();
        let err = number
            .holds(&Value::List(vec![Value::Number(0.25)]))
            .unwrap_err();
        assert_eq!(
            err,
            PluginError::invalid_input(
                "successCondition \"result[0] * 2\" gives 0.5 (a number), not true or false: \
                 make it a comparison, as in result[0] * 2 < 1"
            )
        );
    }
}
