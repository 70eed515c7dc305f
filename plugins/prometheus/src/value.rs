//! The values conditions work on: what a query returned, and what expressions make of it.

use std::fmt;

/// How many values of a list a reason shows; a range query can return thousands.
const SHOWN_VALUES: usize = 10;

#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Number(f64),
    Bool(bool),
    Text(String),
    List(Vec<Value>),
}

impl Value {
    /// What kind of value this is, for error messages: `a number`, `a list of 3 values`.
    pub fn kind(&self) -> String {
        match self {
            Self::Number(_) => "a number".into(),
            Self::Bool(_) => "true or false".into(),
            Self::Text(_) => "a string".into(),
            Self::List(items) if items.len() == 1 => "a list of 1 value".into(),
            Self::List(items) => format!("a list of {} values", items.len()),
        }
    }
}

/// Numbers as Prometheus writes them (`NaN`, `+Inf`), otherwise the shortest exact decimal;
/// lists as `[0.1, 0.2]`, long ones cut after a few values.
impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Number(n) => write_number(f, *n),
            Self::Bool(b) => write!(f, "{b}"),
            Self::Text(text) => write!(f, "{text:?}"),
            Self::List(items) => {
                f.write_str("[")?;
                for (i, item) in items.iter().take(SHOWN_VALUES).enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{item}")?;
                }
                if items.len() > SHOWN_VALUES {
                    write!(f, ", … ({} values)", items.len())?;
                }
                f.write_str("]")
            }
        }
    }
}

fn write_number(f: &mut fmt::Formatter<'_>, n: f64) -> fmt::Result {
    if n.is_nan() {
        f.write_str("NaN")
    } else if n.is_infinite() {
        f.write_str(if n > 0.0 { "+Inf" } else { "-Inf" })
    } else if n != 0.0 && !(1e-4..1e15).contains(&n.abs()) {
        // Rust never writes an exponent by itself: 1e-9 would be nine zeros long.
        write!(f, "{n:e}")
    } else {
        write!(f, "{n}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_read_as_prometheus_writes_them() {
        let shown: Vec<String> = [
            0.312,
            3.0,
            -0.5,
            f64::NAN,
            f64::INFINITY,
            -f64::INFINITY,
            1e-9,
            2.5e20,
        ]
        .iter()
        .map(|n| Value::Number(*n).to_string())
        .collect();
        assert_eq!(
            shown,
            [
                "0.312", "3", "-0.5", "NaN", "+Inf", "-Inf", "1e-9", "2.5e20"
            ]
        );
    }

    #[test]
    fn long_lists_are_cut() {
        let short = Value::List(vec![Value::Number(0.1), Value::Number(0.2)]);
        assert_eq!(short.to_string(), "[0.1, 0.2]");
        let long = Value::List((0..25).map(|n| Value::Number(f64::from(n))).collect());
        assert_eq!(
            long.to_string(),
            "[0, 1, 2, 3, 4, 5, 6, 7, 8, 9, … (25 values)]"
        );
        assert_eq!(Value::List(Vec::new()).to_string(), "[]");
        assert_eq!(Value::Text("up".into()).to_string(), "\"up\"");
    }
}
