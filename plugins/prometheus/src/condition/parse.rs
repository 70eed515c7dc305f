//! A recursive-descent parser from tokens to an expression tree. Precedence, loosest first, as
//! in the expr language Argo Rollouts evaluates conditions with: `||`/`or`, `&&`/`and`,
//! comparisons, `+ -`, `* /`, then the prefixes `!`/`not` and `-`, then indexing `x[i]`.

use super::SyntaxError;
use super::lex::{Lexed, Token, lex};
use crate::value::Value;

/// A node and the byte range of the condition text it was parsed from, so evaluation errors
/// can quote the part that failed.
#[derive(Debug, Clone, PartialEq)]
pub struct Expr {
    pub kind: Kind,
    pub start: usize,
    pub end: usize,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Kind {
    Literal(Value),
    /// `result`: what the query returned.
    Result,
    /// `#`: the value `all` or `any` is testing.
    Element,
    Index(Box<Expr>, Box<Expr>),
    Call(Function, Vec<Expr>),
    Not(Box<Expr>),
    Negate(Box<Expr>),
    Binary(Operator, Box<Expr>, Box<Expr>),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Function {
    Len,
    IsNaN,
    IsInf,
    AsFloat,
    Default,
    All,
    Any,
}

impl Function {
    fn named(name: &str) -> Option<Self> {
        Some(match name {
            "len" => Self::Len,
            "isNaN" => Self::IsNaN,
            "isInf" => Self::IsInf,
            "asFloat" => Self::AsFloat,
            "default" => Self::Default,
            "all" => Self::All,
            "any" => Self::Any,
            _ => return None,
        })
    }

    /// How the function is called, for error messages.
    pub fn usage(self) -> &'static str {
        match self {
            Self::Len => "len(<list or string>)",
            Self::IsNaN => "isNaN(<number>)",
            Self::IsInf => "isInf(<number>)",
            Self::AsFloat => "asFloat(<string>)",
            Self::Default => "default(<value>, <value if there is no data>)",
            Self::All => "all(<list>, {<condition on #>})",
            Self::Any => "any(<list>, {<condition on #>})",
        }
    }

    fn arity(self) -> usize {
        match self {
            Self::Default | Self::All | Self::Any => 2,
            _ => 1,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Operator {
    Add,
    Subtract,
    Multiply,
    Divide,
    Less,
    LessEqual,
    Greater,
    GreaterEqual,
    Equal,
    NotEqual,
    And,
    Or,
}

impl Operator {
    pub fn symbol(self) -> &'static str {
        match self {
            Self::Add => "+",
            Self::Subtract => "-",
            Self::Multiply => "*",
            Self::Divide => "/",
            Self::Less => "<",
            Self::LessEqual => "<=",
            Self::Greater => ">",
            Self::GreaterEqual => ">=",
            Self::Equal => "==",
            Self::NotEqual => "!=",
            Self::And => "&&",
            Self::Or => "||",
        }
    }
}

const KNOWN_NAMES: &str = "a condition knows result, # (inside all and any), true, false and the \
                           functions len, isNaN, isInf, asFloat, default, all and any";

/// The expression tree of a condition.
pub fn parse(text: &str) -> Result<Expr, SyntaxError> {
    let mut parser = Parser {
        text,
        tokens: lex(text)?,
        next: 0,
        predicates: 0,
    };
    let expr = parser.or()?;
    parser.expect(&Token::End, "an operator or the end of the condition")?;
    Ok(expr)
}

struct Parser<'a> {
    text: &'a str,
    tokens: Vec<Lexed>,
    next: usize,
    /// How many `all`/`any` predicates enclose the current token: `#` is valid only inside one.
    predicates: usize,
}

type Parsed = Result<Expr, SyntaxError>;

impl Parser<'_> {
    fn peek(&self) -> &Lexed {
        // The last token is End, which no rule consumes past.
        &self.tokens[self.next.min(self.tokens.len() - 1)]
    }

    fn error(&self, at: usize, message: impl Into<String>) -> SyntaxError {
        SyntaxError::at(self.text, at, message)
    }

    fn expect(&mut self, token: &Token, what: &str) -> Result<usize, SyntaxError> {
        let next = self.peek();
        if next.token == *token {
            let end = next.end;
            self.next += 1;
            Ok(end)
        } else {
            Err(self.error(
                next.start,
                format!("expected {what}, found {}", next.token.describe()),
            ))
        }
    }

    fn or(&mut self) -> Parsed {
        self.binary(Self::and, &[(Token::Or, Operator::Or)])
    }

    fn and(&mut self) -> Parsed {
        self.binary(Self::comparison, &[(Token::And, Operator::And)])
    }

    fn comparison(&mut self) -> Parsed {
        self.binary(
            Self::sum,
            &[
                (Token::Less, Operator::Less),
                (Token::LessEqual, Operator::LessEqual),
                (Token::Greater, Operator::Greater),
                (Token::GreaterEqual, Operator::GreaterEqual),
                (Token::Equal, Operator::Equal),
                (Token::NotEqual, Operator::NotEqual),
            ],
        )
    }

    fn sum(&mut self) -> Parsed {
        self.binary(
            Self::product,
            &[
                (Token::Plus, Operator::Add),
                (Token::Minus, Operator::Subtract),
            ],
        )
    }

    fn product(&mut self) -> Parsed {
        self.binary(
            Self::prefix,
            &[
                (Token::Star, Operator::Multiply),
                (Token::Slash, Operator::Divide),
            ],
        )
    }

    /// Left-associative operators of one precedence level over operands parsed by `operand`.
    fn binary(
        &mut self,
        operand: fn(&mut Self) -> Parsed,
        operators: &[(Token, Operator)],
    ) -> Parsed {
        let mut left = operand(self)?;
        while let Some(&(_, operator)) = operators.iter().find(|(t, _)| *t == self.peek().token) {
            self.next += 1;
            let right = operand(self)?;
            left = Expr {
                start: left.start,
                end: right.end,
                kind: Kind::Binary(operator, Box::new(left), Box::new(right)),
            };
        }
        Ok(left)
    }

    fn prefix(&mut self) -> Parsed {
        let start = self.peek().start;
        let wrap: fn(Box<Expr>) -> Kind = match self.peek().token {
            Token::Not => Kind::Not,
            Token::Minus => Kind::Negate,
            _ => return self.postfix(),
        };
        self.next += 1;
        let operand = self.prefix()?;
        Ok(Expr {
            start,
            end: operand.end,
            kind: wrap(Box::new(operand)),
        })
    }

    fn postfix(&mut self) -> Parsed {
        let mut expr = self.primary()?;
        while self.peek().token == Token::OpenBracket {
            self.next += 1;
            let index = self.or()?;
            let end = self.expect(&Token::CloseBracket, "`]`")?;
            expr = Expr {
                start: expr.start,
                end,
                kind: Kind::Index(Box::new(expr), Box::new(index)),
            };
        }
        Ok(expr)
    }

    fn primary(&mut self) -> Parsed {
        let Lexed { token, start, end } = self.peek().clone();
        self.next += 1;
        let kind = match token {
            Token::Number(n) => Kind::Literal(Value::Number(n)),
            Token::Text(text) => Kind::Literal(Value::Text(text)),
            Token::Hash if self.predicates > 0 => Kind::Element,
            Token::Hash => {
                return Err(self.error(
                    start,
                    "`#` stands for each value inside all(...) or any(...) and means nothing \
                     outside them",
                ));
            }
            Token::Open => {
                let mut inner = self.or()?;
                inner.end = self.expect(&Token::Close, "`)`")?;
                inner.start = start;
                return Ok(inner);
            }
            Token::Name(name) if self.peek().token == Token::Open => {
                return self.call(&name, start);
            }
            Token::Name(name) => match name.as_str() {
                "result" => Kind::Result,
                "true" => Kind::Literal(Value::Bool(true)),
                "false" => Kind::Literal(Value::Bool(false)),
                _ => {
                    let message = match Function::named(&name) {
                        Some(function) => {
                            format!("`{name}` is a function: call it as {}", function.usage())
                        }
                        None => format!("unknown name `{name}`: {KNOWN_NAMES}"),
                    };
                    return Err(self.error(start, message));
                }
            },
            other => {
                return Err(self.error(
                    start,
                    format!("expected a value, found {}", other.describe()),
                ));
            }
        };
        Ok(Expr { kind, start, end })
    }

    /// `name(...)`, the name already taken and `(` next.
    fn call(&mut self, name: &str, start: usize) -> Parsed {
        let Some(function) = Function::named(name) else {
            let message = if name == "result" {
                "`result` is not a function: index it as result[0]".to_string()
            } else {
                format!("unknown function `{name}`: {KNOWN_NAMES}")
            };
            return Err(self.error(start, message));
        };
        self.next += 1;
        let mut args = Vec::new();
        if self.peek().token != Token::Close {
            loop {
                let predicate =
                    args.len() == 1 && matches!(function, Function::All | Function::Any);
                args.push(if predicate {
                    self.predicate()?
                } else {
                    self.or()?
                });
                if self.peek().token != Token::Comma {
                    break;
                }
                self.next += 1;
            }
        }
        let end = self.expect(&Token::Close, "`,` or `)`")?;
        if args.len() != function.arity() {
            return Err(self.error(
                start,
                format!(
                    "`{name}` takes {} argument{}, as in {}; got {}",
                    function.arity(),
                    if function.arity() == 1 { "" } else { "s" },
                    function.usage(),
                    args.len()
                ),
            ));
        }
        Ok(Expr {
            kind: Kind::Call(function, args),
            start,
            end,
        })
    }

    /// The test of `all`/`any`, in braces as Argo Rollouts writes it (`{# < 0.5}`) or bare.
    fn predicate(&mut self) -> Parsed {
        self.predicates += 1;
        let predicate = if self.peek().token == Token::OpenBrace {
            let start = self.peek().start;
            self.next += 1;
            self.or().and_then(|mut inner| {
                inner.end = self.expect(&Token::CloseBrace, "`}`")?;
                inner.start = start;
                Ok(inner)
            })
        } else {
            self.or()
        };
        self.predicates -= 1;
        predicate
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The tree as a Lisp-like string, to check structure at a glance.
    fn tree(expr: &Expr) -> String {
        match &expr.kind {
            Kind::Literal(value) => value.to_string(),
            Kind::Result => "result".into(),
            Kind::Element => "#".into(),
            Kind::Index(list, index) => format!("{}[{}]", tree(list), tree(index)),
            Kind::Call(function, args) => {
                let args: Vec<String> = args.iter().map(tree).collect();
                format!("{function:?}({})", args.join(" "))
            }
            Kind::Not(operand) => format!("(! {})", tree(operand)),
            Kind::Negate(operand) => format!("(- {})", tree(operand)),
            Kind::Binary(op, left, right) => {
                format!("({} {} {})", op.symbol(), tree(left), tree(right))
            }
        }
    }

    fn parsed(text: &str) -> String {
        tree(&parse(text).unwrap_or_else(|err| panic!("{text}: {err:?}")))
    }

    #[test]
    fn binds_as_argo_conditions_expect() {
        let cases = [
            ("result[0] >= 0.95", "(>= result[0] 0.95)"),
            ("1 + 2 * 3 - 4 / 2", "(- (+ 1 (* 2 3)) (/ 4 2))"),
            (
                "len(result) == 0 || result[0] < 1 && true",
                "(|| (== Len(result) 0) (&& (< result[0] 1) true))",
            ),
            (
                "not isNaN(result[0]) and -result[-1] > -2",
                "(&& (! IsNaN(result[0])) (> (- result[(- 1)]) (- 2)))",
            ),
            ("(1 + 2) * 3", "(* (+ 1 2) 3)"),
            ("all(result, {# < 0.5})", "All(result (< # 0.5))"),
            (
                "any(result, # > 1 or isInf(#))",
                "Any(result (|| (> # 1) IsInf(#)))",
            ),
            (
                "default(result[0], 0) >= 0.9",
                "(>= Default(result[0] 0) 0.9)",
            ),
            ("asFloat(result) != 'x'", "(!= AsFloat(result) \"x\")"),
        ];
        for (text, expected) in cases {
            assert_eq!(parsed(text), expected, "{text}");
        }
    }

    #[test]
    fn spans_cover_the_text_of_each_node() {
        let text = "default( result[0] , 0) >= (0.2)";
        let expr = parse(text).unwrap();
        let Kind::Binary(_, left, right) = &expr.kind else {
            panic!()
        };
        assert_eq!(&text[left.start..left.end], "default( result[0] , 0)");
        assert_eq!(&text[right.start..right.end], "(0.2)");
        let Kind::Call(_, args) = &left.kind else {
            panic!()
        };
        assert_eq!(&text[args[0].start..args[0].end], "result[0]");
        assert_eq!((expr.start, expr.end), (0, text.len()));
    }

    #[test]
    fn errors_name_the_column_and_what_was_expected() {
        let cases = [
            (
                "result[0] >=",
                13,
                "expected a value, found the end of the condition",
            ),
            (
                "result[0] >= 0.2)",
                17,
                "expected an operator or the end of the condition, found `)`",
            ),
            ("result[0 > 1", 13, "expected `]`, found the end"),
            ("(result[0] > 1", 15, "expected `)`"),
            (
                "# > 1",
                1,
                "`#` stands for each value inside all(...) or any(...)",
            ),
            (
                "reslt[0] > 1",
                1,
                "unknown name `reslt`: a condition knows result",
            ),
            ("avg(result) > 1", 1, "unknown function `avg`"),
            ("result(0) > 1", 1, "`result` is not a function"),
            (
                "len > 1",
                1,
                "`len` is a function: call it as len(<list or string>)",
            ),
            (
                "default(result[0]) > 1",
                1,
                "`default` takes 2 arguments, as in default(",
            ),
            (
                "isNaN() ",
                1,
                "`isNaN` takes 1 argument, as in isNaN(<number>); got 0",
            ),
            ("all(result, {# < 1) ", 19, "expected `}`, found `)`"),
            (
                "len(result 1)",
                12,
                "expected `,` or `)`, found the number 1",
            ),
            ("1 > > 2", 5, "expected a value, found `>`"),
        ];
        for (text, column, message) in cases {
            let err = parse(text).unwrap_err();
            assert!(err.message.contains(message), "{text}: {}", err.message);
            assert_eq!(err.column, column, "{text}: {}", err.message);
        }
    }
}
