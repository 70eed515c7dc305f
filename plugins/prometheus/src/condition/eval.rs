//! Evaluates an expression tree against what the query returned.

use super::parse::{Expr, Function, Kind, Operator};
use crate::value::Value;

/// Why an expression has no value.
#[derive(Debug, Clone, PartialEq)]
pub enum Failure {
    /// The data is not there: an index past the end of the result, most often an empty result.
    /// `default(...)` turns it into its second argument.
    NoData(String),
    /// The condition does not fit the data: comparing a list with a number, indexing a scalar.
    Mismatch(String),
}

/// The value of `expr`, parsed from `text`, when the query returned `result`.
pub fn evaluate(expr: &Expr, text: &str, result: &Value) -> Result<Value, Failure> {
    Scope {
        text,
        result,
        element: None,
    }
    .eval(expr)
}

struct Scope<'a> {
    text: &'a str,
    result: &'a Value,
    /// The value `#` stands for, inside `all` and `any`.
    element: Option<&'a Value>,
}

impl Scope<'_> {
    fn eval(&self, expr: &Expr) -> Result<Value, Failure> {
        match &expr.kind {
            Kind::Literal(value) => Ok(value.clone()),
            Kind::Result => Ok(self.result.clone()),
            Kind::Element => self.element.cloned().ok_or_else(|| {
                Failure::Mismatch("`#` is used outside all(...) and any(...)".into())
            }),
            Kind::Index(list, index) => self.index(expr, list, index),
            Kind::Call(function, args) => self.call(*function, args),
            Kind::Not(operand) => {
                let value = self.eval(operand)?;
                Ok(Value::Bool(!self.boolean(
                    operand,
                    &value,
                    "`!` negates true or false",
                )?))
            }
            Kind::Negate(operand) => {
                let value = self.eval(operand)?;
                Ok(Value::Number(-self.number(
                    operand,
                    &value,
                    "`-` negates a number",
                )?))
            }
            Kind::Binary(operator, left, right) => self.binary(*operator, left, right),
        }
    }

    fn index(&self, expr: &Expr, list: &Expr, index: &Expr) -> Result<Value, Failure> {
        let listed = self.eval(list)?;
        let Value::List(items) = &listed else {
            let hint = if matches!(listed, Value::Number(_)) {
                " (a scalar query gives one number: use result itself)"
            } else {
                ""
            };
            return Err(Failure::Mismatch(format!(
                "only a list can be indexed, but {}{hint}",
                self.described(list, &listed)
            )));
        };
        let position = self.eval(index)?;
        let position = self.number(index, &position, "an index is a whole number")?;
        if position.fract() != 0.0 {
            return Err(Failure::Mismatch(format!(
                "an index is a whole number, but `{}` is {position}",
                self.quote(index)
            )));
        }
        if items.is_empty() {
            return Err(Failure::NoData(format!(
                "the query returned no samples ({} is empty)",
                self.quote(list)
            )));
        }
        // Negative indexes count from the end, as in expr: result[-1] is the last value.
        let count = items.len() as f64;
        let from_start = if position < 0.0 {
            count + position
        } else {
            position
        };
        if !(0.0..count).contains(&from_start) {
            return Err(Failure::NoData(format!(
                "{} is out of range: the query returned {} value{}",
                self.quote(expr),
                items.len(),
                if items.len() == 1 { "" } else { "s" }
            )));
        }
        Ok(items[from_start as usize].clone())
    }

    fn call(&self, function: Function, args: &[Expr]) -> Result<Value, Failure> {
        let purpose = format!("{} needs", function.usage());
        match function {
            Function::Default => match self.eval(&args[0]) {
                Err(Failure::NoData(_)) => self.eval(&args[1]),
                other => other,
            },
            Function::All | Function::Any => self.quantify(function, &args[0], &args[1]),
            Function::Len => match self.eval(&args[0])? {
                Value::List(items) => Ok(Value::Number(items.len() as f64)),
                Value::Text(text) => Ok(Value::Number(text.chars().count() as f64)),
                other => Err(Failure::Mismatch(format!(
                    "{purpose} a list or a string, but {}",
                    self.described(&args[0], &other)
                ))),
            },
            Function::IsNaN | Function::IsInf => {
                let value = self.eval(&args[0])?;
                let n = self.number(&args[0], &value, &format!("{purpose} a number"))?;
                Ok(Value::Bool(if function == Function::IsNaN {
                    n.is_nan()
                } else {
                    n.is_infinite()
                }))
            }
            Function::AsFloat => match self.eval(&args[0])? {
                Value::Number(n) => Ok(Value::Number(n)),
                Value::Text(text) => text.trim().parse().map(Value::Number).map_err(|_| {
                    Failure::Mismatch(format!("asFloat cannot read {text:?} as a number"))
                }),
                other => Err(Failure::Mismatch(format!(
                    "{purpose} a string, but {}",
                    self.described(&args[0], &other)
                ))),
            },
        }
    }

    /// `all` / `any`: the test on every value of the list, stopping at the first that decides.
    fn quantify(&self, function: Function, list: &Expr, test: &Expr) -> Result<Value, Failure> {
        let listed = self.eval(list)?;
        let Value::List(items) = &listed else {
            return Err(Failure::Mismatch(format!(
                "{} needs a list, but {}",
                function.usage(),
                self.described(list, &listed)
            )));
        };
        let wanted = function == Function::Any;
        for item in items {
            let scope = Scope {
                element: Some(item),
                ..*self
            };
            let value = scope.eval(test)?;
            if scope.boolean(test, &value, "the test of all/any must be true or false")? == wanted {
                return Ok(Value::Bool(wanted));
            }
        }
        Ok(Value::Bool(!wanted))
    }

    fn binary(&self, operator: Operator, left: &Expr, right: &Expr) -> Result<Value, Failure> {
        let symbol = operator.symbol();
        let lhs = self.eval(left)?;
        // && and || decide on the left side alone when they can, so
        // `len(result) > 0 && result[0] < 1` never indexes an empty result.
        if let Operator::And | Operator::Or = operator {
            let purpose = format!("`{symbol}` joins true or false");
            let first = self.boolean(left, &lhs, &purpose)?;
            if first == (operator == Operator::Or) {
                return Ok(Value::Bool(first));
            }
            let rhs = self.eval(right)?;
            return self.boolean(right, &rhs, &purpose).map(Value::Bool);
        }
        let rhs = self.eval(right)?;
        if let Operator::Equal | Operator::NotEqual = operator {
            if std::mem::discriminant(&lhs) != std::mem::discriminant(&rhs) {
                return Err(Failure::Mismatch(format!(
                    "`{symbol}` compares values of one kind, but {} and {}",
                    self.described(left, &lhs),
                    self.described(right, &rhs)
                )));
            }
            return Ok(Value::Bool((lhs == rhs) == (operator == Operator::Equal)));
        }
        let purpose = match operator {
            Operator::Add | Operator::Subtract | Operator::Multiply | Operator::Divide => {
                format!("`{symbol}` works on numbers")
            }
            _ => format!("`{symbol}` compares numbers"),
        };
        let a = self.number(left, &lhs, &purpose)?;
        let b = self.number(right, &rhs, &purpose)?;
        // Float arithmetic as in Go and Prometheus: x/0 is ±Inf or NaN, and NaN compares false.
        Ok(match operator {
            Operator::Add => Value::Number(a + b),
            Operator::Subtract => Value::Number(a - b),
            Operator::Multiply => Value::Number(a * b),
            Operator::Divide => Value::Number(a / b),
            Operator::Less => Value::Bool(a < b),
            Operator::LessEqual => Value::Bool(a <= b),
            Operator::Greater => Value::Bool(a > b),
            _ => Value::Bool(a >= b),
        })
    }

    fn number(&self, expr: &Expr, value: &Value, purpose: &str) -> Result<f64, Failure> {
        match value {
            Value::Number(n) => Ok(*n),
            _ => Err(self.mismatch(purpose, expr, value)),
        }
    }

    fn boolean(&self, expr: &Expr, value: &Value, purpose: &str) -> Result<bool, Failure> {
        match value {
            Value::Bool(b) => Ok(*b),
            _ => Err(self.mismatch(purpose, expr, value)),
        }
    }

    fn mismatch(&self, purpose: &str, expr: &Expr, value: &Value) -> Failure {
        let hint = match value {
            Value::List(_) => {
                "; take one value, as in result[0], or test each with all(result, {# < 1})"
            }
            Value::Text(_) => "; read a number from it with asFloat(...)",
            _ => "",
        };
        Failure::Mismatch(format!(
            "{purpose}, but {}{hint}",
            self.described(expr, value)
        ))
    }

    /// `` `result` is a list of 1 value ([0.3]) ``.
    fn described(&self, expr: &Expr, value: &Value) -> String {
        format!("`{}` is {} ({value})", self.quote(expr), value.kind())
    }

    fn quote(&self, expr: &Expr) -> &str {
        &self.text[expr.start..expr.end]
    }
}

#[cfg(test)]
mod tests {
    use super::super::parse::parse;
    use super::*;

    fn list(values: &[f64]) -> Value {
        Value::List(values.iter().map(|n| Value::Number(*n)).collect())
    }

    fn eval(text: &str, result: &Value) -> Result<Value, Failure> {
        evaluate(&parse(text).unwrap(), text, result)
    }

    fn holds(text: &str, result: &Value) -> bool {
        match eval(text, result) {
            Ok(Value::Bool(b)) => b,
            other => panic!("{text}: {other:?}"),
        }
    }

    #[test]
    fn compares_indexes_and_computes() {
        let r = list(&[0.3, 0.6, 0.9]);
        assert!(holds("result[0] < 0.5", &r));
        assert!(holds("result[-1] == 0.9 && result[1] >= 0.6", &r));
        assert!(holds("(result[0] + result[1]) * 2 > 1.7", &r));
        assert!(!holds("result[2] / 3 != 0.3", &r));
        assert!(holds("len(result) == 3", &r));
        assert!(holds("-result[0] < 0", &r));
        assert!(holds("not (result[0] > 1) and !false", &r));
        assert!(holds("result == result", &r));
        assert!(holds("1 / 0 > 1e308 && isInf(-1 / 0)", &r));
        assert!(holds("isNaN(0 / 0) and !(0 / 0 == 0 / 0)", &r));
        assert_eq!(eval("result[1] - 0.1", &r), Ok(Value::Number(0.5)));
    }

    #[test]
    fn all_and_any_test_each_value() {
        let r = list(&[0.3, 0.6, 0.9]);
        assert!(holds("all(result, {# < 1})", &r));
        assert!(!holds("all(result, {# < 0.5})", &r));
        assert!(holds("any(result, # > 0.8)", &r));
        assert!(!holds("any(result, {isNaN(#)})", &r));
        // As in expr: all of nothing is true, any of nothing false.
        assert!(holds("all(result, {# < 0})", &list(&[])));
        assert!(!holds("any(result, {# < 0})", &list(&[])));
        // Stops at the first value that decides.
        assert!(holds("any(result, {# < 0.5 || result[# * 10] > 0})", &r));
    }

    #[test]
    fn short_circuits_so_guards_work() {
        let empty = list(&[]);
        assert!(holds("len(result) == 0 || result[0] < 0.5", &empty));
        assert!(!holds("len(result) > 0 && result[0] < 0.5", &empty));
    }

    #[test]
    fn missing_data_fails_unless_defaulted() {
        let empty = list(&[]);
        assert_eq!(
            eval("result[0] < 0.5", &empty),
            Err(Failure::NoData(
                "the query returned no samples (result is empty)".into()
            ))
        );
        assert_eq!(
            eval("result[3] < 0.5", &list(&[1.0])),
            Err(Failure::NoData(
                "result[3] is out of range: the query returned 1 value".into()
            ))
        );
        assert!(holds("default(result[0], 0) < 0.5", &empty));
        assert!(!holds("default(result[0], 0) < 0.5", &list(&[0.7])));
        // A default covers missing data only, not a condition that does not fit the data.
        assert!(matches!(
            eval("default(result < 1, true)", &empty),
            Err(Failure::Mismatch(_))
        ));
    }

    #[test]
    fn scalars_and_strings() {
        assert!(holds("result < 0.5", &Value::Number(0.25)));
        assert!(holds("isNaN(result)", &Value::Number(f64::NAN)));
        let text = Value::Text("42".into());
        assert!(holds(
            "asFloat(result) == 42 && result == '42' && len(result) == 2",
            &text
        ));
    }

    #[test]
    fn mismatches_say_what_the_value_is_and_how_to_fix_it() {
        let r = list(&[0.3]);
        let cases: [(&str, &Value, &str); 8] = [
            (
                "result < 0.5",
                &r,
                "`<` compares numbers, but `result` is a list of 1 value ([0.3]); take one \
                 value, as in result[0], or test each with all(result, {# < 1})",
            ),
            (
                "result[0] < 0.5",
                &Value::Number(0.3),
                "only a list can be indexed, but `result` is a number (0.3) (a scalar query \
                 gives one number: use result itself)",
            ),
            (
                "result == 1",
                &r,
                "`==` compares values of one kind, but `result` is a list",
            ),
            (
                "result[0] && true",
                &r,
                "`&&` joins true or false, but `result[0]` is a number (0.3)",
            ),
            (
                "isNaN(result)",
                &r,
                "isNaN(<number>) needs a number, but `result` is a list",
            ),
            (
                "result[0.5] > 1",
                &r,
                "an index is a whole number, but `0.5` is 0.5",
            ),
            (
                "asFloat(result) > 1",
                &Value::Text("up".into()),
                "asFloat cannot read \"up\" as a number",
            ),
            (
                "result > 1",
                &Value::Text("1".into()),
                "read a number from it with asFloat(...)",
            ),
        ];
        for (text, result, message) in cases {
            match eval(text, result) {
                Err(Failure::Mismatch(m)) => assert!(m.contains(message), "{text}: {m}"),
                other => panic!("{text}: {other:?}"),
            }
        }
    }
}
