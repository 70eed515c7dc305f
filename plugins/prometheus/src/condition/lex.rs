//! Splits a condition into tokens, each with its place in the text.

use super::SyntaxError;

#[derive(Debug, Clone, PartialEq)]
pub enum Token {
    Number(f64),
    Text(String),
    Name(String),
    /// `#`, the element inside `all(...)` / `any(...)`.
    Hash,
    Open,
    Close,
    OpenBracket,
    CloseBracket,
    OpenBrace,
    CloseBrace,
    Comma,
    Plus,
    Minus,
    Star,
    Slash,
    Less,
    LessEqual,
    Greater,
    GreaterEqual,
    Equal,
    NotEqual,
    /// `&&` or `and`.
    And,
    /// `||` or `or`.
    Or,
    /// `!` or `not`.
    Not,
    End,
}

impl Token {
    /// The token as a parse error names it.
    pub fn describe(&self) -> String {
        let symbol = match self {
            Self::Number(n) => return format!("the number {n}"),
            Self::Text(text) => return format!("the string {text:?}"),
            Self::Name(name) => return format!("`{name}`"),
            Self::End => return "the end of the condition".into(),
            Self::Hash => "#",
            Self::Open => "(",
            Self::Close => ")",
            Self::OpenBracket => "[",
            Self::CloseBracket => "]",
            Self::OpenBrace => "{",
            Self::CloseBrace => "}",
            Self::Comma => ",",
            Self::Plus => "+",
            Self::Minus => "-",
            Self::Star => "*",
            Self::Slash => "/",
            Self::Less => "<",
            Self::LessEqual => "<=",
            Self::Greater => ">",
            Self::GreaterEqual => ">=",
            Self::Equal => "==",
            Self::NotEqual => "!=",
            Self::And => "&&",
            Self::Or => "||",
            Self::Not => "!",
        };
        format!("`{symbol}`")
    }
}

/// A token and the byte range of the text it was read from.
#[derive(Debug, Clone, PartialEq)]
pub struct Lexed {
    pub token: Token,
    pub start: usize,
    pub end: usize,
}

/// The tokens of `text`, ending with [`Token::End`].
pub fn lex(text: &str) -> Result<Vec<Lexed>, SyntaxError> {
    let mut tokens = Vec::new();
    let mut chars = text.char_indices().peekable();
    while let Some((start, c)) = chars.next() {
        // The two-character operator `c` starts, if `second` follows.
        let mut pair =
            |second: char, double: Token| chars.next_if(|(_, c)| *c == second).map(|_| double);
        let alone = |message: &str| {
            SyntaxError::at(
                text,
                start,
                format!("`{c}` alone is not an operator: {message}"),
            )
        };
        let token = match c {
            c if c.is_whitespace() => continue,
            '0'..='9' | '.' => number(text, start, &mut chars)?,
            '"' | '\'' => Token::Text(string(text, start, c, &mut chars)?),
            c if c.is_alphabetic() || c == '_' => {
                let mut end = start + c.len_utf8();
                while let Some((i, c)) = chars.next_if(|(_, c)| c.is_alphanumeric() || *c == '_') {
                    end = i + c.len_utf8();
                }
                match &text[start..end] {
                    "and" => Token::And,
                    "or" => Token::Or,
                    "not" => Token::Not,
                    name => Token::Name(name.into()),
                }
            }
            '#' => Token::Hash,
            '(' => Token::Open,
            ')' => Token::Close,
            '[' => Token::OpenBracket,
            ']' => Token::CloseBracket,
            '{' => Token::OpenBrace,
            '}' => Token::CloseBrace,
            ',' => Token::Comma,
            '+' => Token::Plus,
            '-' => Token::Minus,
            '*' => Token::Star,
            '/' => Token::Slash,
            '<' => pair('=', Token::LessEqual).unwrap_or(Token::Less),
            '>' => pair('=', Token::GreaterEqual).unwrap_or(Token::Greater),
            '!' => pair('=', Token::NotEqual).unwrap_or(Token::Not),
            '=' => pair('=', Token::Equal).ok_or_else(|| alone("compare with =="))?,
            '&' => pair('&', Token::And).ok_or_else(|| alone("write && or and"))?,
            '|' => pair('|', Token::Or).ok_or_else(|| alone("write || or or"))?,
            other => {
                return Err(SyntaxError::at(
                    text,
                    start,
                    format!("unexpected character `{other}`"),
                ));
            }
        };
        let end = chars.peek().map_or(text.len(), |(i, _)| *i);
        tokens.push(Lexed { token, start, end });
    }
    tokens.push(Lexed {
        token: Token::End,
        start: text.len(),
        end: text.len(),
    });
    Ok(tokens)
}

type Chars<'a> = std::iter::Peekable<std::str::CharIndices<'a>>;

/// `12`, `0.5`, `.5`, `1e-3`; the first character is already taken.
fn number(text: &str, start: usize, chars: &mut Chars) -> Result<Token, SyntaxError> {
    while chars
        .next_if(|(_, c)| c.is_ascii_digit() || *c == '.')
        .is_some()
    {}
    if chars.next_if(|(_, c)| matches!(c, 'e' | 'E')).is_some() {
        chars.next_if(|(_, c)| matches!(c, '+' | '-'));
        while chars.next_if(|(_, c)| c.is_ascii_digit()).is_some() {}
    }
    let end = chars.peek().map_or(text.len(), |(i, _)| *i);
    let literal = &text[start..end];
    literal
        .parse()
        .map(Token::Number)
        .map_err(|_| SyntaxError::at(text, start, format!("`{literal}` is not a number")))
}

/// A string in `"..."` or `'...'`; `\` takes the next character as it is (`\n` and `\t` are a
/// newline and a tab).
fn string(text: &str, start: usize, quote: char, chars: &mut Chars) -> Result<String, SyntaxError> {
    let mut value = String::new();
    while let Some((_, c)) = chars.next() {
        match c {
            c if c == quote => return Ok(value),
            '\\' => match chars.next() {
                Some((_, 'n')) => value.push('\n'),
                Some((_, 't')) => value.push('\t'),
                Some((_, escaped)) => value.push(escaped),
                None => break,
            },
            c => value.push(c),
        }
    }
    Err(SyntaxError::at(
        text,
        start,
        format!("the string starting here has no closing {quote}"),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tokens(text: &str) -> Vec<Token> {
        lex(text).unwrap().into_iter().map(|l| l.token).collect()
    }

    #[test]
    fn reads_operators_names_numbers_and_strings() {
        use Token::*;
        assert_eq!(
            tokens("result[0] >= 0.2 && !isNaN(#) or x != 'a\\'b'"),
            [
                Name("result".into()),
                OpenBracket,
                Number(0.0),
                CloseBracket,
                GreaterEqual,
                Number(0.2),
                And,
                Not,
                Name("isNaN".into()),
                Open,
                Hash,
                Close,
                Or,
                Name("x".into()),
                NotEqual,
                Text("a'b".into()),
                End
            ]
        );
        assert_eq!(
            tokens("1e-3<.5 not and"),
            [Number(0.001), Less, Number(0.5), Not, And, End]
        );
    }

    #[test]
    fn keeps_where_each_token_is() {
        let lexed = lex("len(x) <= 10").unwrap();
        let spans: Vec<(usize, usize)> = lexed.iter().map(|l| (l.start, l.end)).collect();
        assert_eq!(
            spans,
            [(0, 3), (3, 4), (4, 5), (5, 6), (7, 9), (10, 12), (12, 12)]
        );
    }

    #[test]
    fn names_the_column_of_what_it_cannot_read() {
        let cases = [
            (
                "result[0] = 1",
                11,
                "`=` alone is not an operator: compare with ==",
            ),
            ("a & b", 3, "`&` alone is not an operator"),
            ("a | b", 3, "`|` alone is not an operator"),
            ("1.2.3 > 0", 1, "`1.2.3` is not a number"),
            ("x == \"open", 6, "no closing \""),
            ("x ~ 1", 3, "unexpected character `~`"),
            ("é ~ 1", 3, "unexpected character `~`"),
        ];
        for (text, column, message) in cases {
            let err = lex(text).unwrap_err();
            assert_eq!(err.column, column, "{text}");
            assert!(err.message.contains(message), "{text}: {}", err.message);
        }
    }
}
