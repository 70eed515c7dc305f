//! A step's request matches as the conditions canary annotations can state: one header, one
//! cookie and one query parameter, any of which sends a request to the canary.
//!
//! The annotations of every class OR their conditions (a request goes to the canary when it
//! meets the header, the cookie or the query rule), which is exactly a list of matches with one
//! condition each. Anything else would be widened or narrowed silently, so it is refused:
//! a match with several conditions (they must all hold), two matches on the same kind of
//! condition (there is one annotation for each), a path condition, a match without condition.

use waxwing_plugin_sdk::PluginError;
use waxwing_plugin_sdk::traffic::{HeaderMatch, RouteMatch};

/// Kruise's spelling of a cookie match: a header match named `canary-by-cookie` whose value is
/// the cookie's name (nginx then routes requests whose cookie has the value `always`).
pub const COOKIE_MATCH_HEADER: &str = "canary-by-cookie";

/// Gateway API's default path, the one the host fills in for a match without a path: it matches
/// every request, so it is no condition.
const ANY_PATH: (&str, &str) = ("PathPrefix", "/");

/// A header or query-parameter condition.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ValueMatch<'a> {
    pub name: &'a str,
    pub value: &'a str,
    /// `value` is a regular expression rather than the exact value.
    pub regex: bool,
}

/// What the step's matches route by.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Conditions<'a> {
    pub header: Option<ValueMatch<'a>>,
    /// The cookie's name.
    pub cookie: Option<&'a str>,
    pub query: Option<ValueMatch<'a>>,
}

/// One condition of a match.
enum Condition<'a> {
    Header(ValueMatch<'a>),
    Cookie(&'a str),
    Query(ValueMatch<'a>),
}

impl Conditions<'_> {
    pub fn of(matches: &[RouteMatch]) -> Result<Conditions<'_>, PluginError> {
        let mut conditions = Conditions::default();
        for (index, route_match) in matches.iter().enumerate() {
            let number = index + 1;
            let repeated = match only_condition(number, route_match)? {
                Condition::Header(header) => conditions.header.replace(header).map(|_| "header"),
                Condition::Cookie(cookie) => conditions.cookie.replace(cookie).map(|_| "cookie"),
                Condition::Query(query) => {
                    conditions.query.replace(query).map(|_| "query parameter")
                }
            };
            if let Some(kind) = repeated {
                return Err(PluginError::invalid_input(format!(
                    "match {number} routes by a {kind} like an earlier match, but a canary \
                     Ingress has a single {kind} rule; keep one of the two matches, or merge \
                     their values into one RegularExpression match"
                )));
            }
        }
        Ok(conditions)
    }
}

fn only_condition(number: usize, route_match: &RouteMatch) -> Result<Condition<'_>, PluginError> {
    if let Some(path) = &route_match.path
        && (path.match_type.as_str(), path.value.as_str()) != ANY_PATH
    {
        return Err(PluginError::invalid_input(format!(
            "match {number} has a path condition ({} {}), which canary Ingress annotations cannot \
             express (the canary Ingress already serves only the stable Ingress's paths); remove \
             the path from the match",
            path.match_type, path.value
        )));
    }
    let mut conditions = route_match.headers.iter().map(header_condition).chain(
        route_match
            .query_params
            .iter()
            .map(|query| value_match(query, "query parameter").map(Condition::Query)),
    );
    let condition = conditions.next().transpose()?.ok_or_else(|| {
        PluginError::invalid_input(format!(
            "match {number} has no condition; give it a header, a query parameter or a \
             {COOKIE_MATCH_HEADER} header naming a cookie"
        ))
    })?;
    let count = route_match.headers.len() + route_match.query_params.len();
    if count > 1 {
        return Err(PluginError::invalid_input(format!(
            "match {number} has {count} conditions that must all hold, but canary Ingress \
             annotations send a request to the canary when any one of them holds; give each \
             condition a match of its own if that is what you want, or use a route that can \
             combine them (Gateway API)"
        )));
    }
    Ok(condition)
}

fn header_condition(header: &HeaderMatch) -> Result<Condition<'_>, PluginError> {
    if header.name != COOKIE_MATCH_HEADER {
        return value_match(header, "header").map(Condition::Header);
    }
    if header.match_type != "Exact" {
        return Err(PluginError::invalid_input(format!(
            "the {COOKIE_MATCH_HEADER} match names a cookie ({}); its type must be Exact, not {}",
            header.value, header.match_type
        )));
    }
    Ok(Condition::Cookie(&header.value))
}

fn value_match<'a>(matched: &'a HeaderMatch, kind: &str) -> Result<ValueMatch<'a>, PluginError> {
    let regex = match matched.match_type.as_str() {
        "Exact" => false,
        "RegularExpression" => true,
        other => {
            return Err(PluginError::invalid_input(format!(
                "the {kind} match on {} has type {other:?}; use Exact or RegularExpression",
                matched.name
            )));
        }
    };
    Ok(ValueMatch {
        name: &matched.name,
        value: &matched.value,
        regex,
    })
}

#[cfg(test)]
mod tests {
    use waxwing_plugin_sdk::traffic::PathMatch;

    use super::*;

    fn matched(name: &str, value: &str, match_type: &str) -> HeaderMatch {
        HeaderMatch {
            name: name.into(),
            value: value.into(),
            match_type: match_type.into(),
        }
    }

    fn headers(headers: Vec<HeaderMatch>) -> RouteMatch {
        RouteMatch {
            path: None,
            headers,
            query_params: vec![],
        }
    }

    #[test]
    fn one_condition_per_match_and_kind() {
        let matches = [
            headers(vec![matched("x-user", "beta", "Exact")]),
            headers(vec![matched(COOKIE_MATCH_HEADER, "canary", "Exact")]),
            RouteMatch {
                path: Some(PathMatch {
                    value: "/".into(),
                    match_type: "PathPrefix".into(),
                }),
                headers: vec![],
                query_params: vec![matched("v", "^2", "RegularExpression")],
            },
        ];
        let conditions = Conditions::of(&matches).unwrap();
        assert_eq!(
            conditions.header,
            Some(ValueMatch {
                name: "x-user",
                value: "beta",
                regex: false
            })
        );
        assert_eq!(conditions.cookie, Some("canary"));
        assert_eq!(
            conditions.query,
            Some(ValueMatch {
                name: "v",
                value: "^2",
                regex: true
            })
        );
        assert_eq!(Conditions::of(&[]).unwrap(), Conditions::default());
    }

    #[test]
    fn refuses_what_annotations_cannot_state() {
        let refused = |matches: &[RouteMatch], fragment: &str| {
            let err = Conditions::of(matches).unwrap_err();
            assert!(matches!(err, PluginError::InvalidInput(_)));
            assert!(err.message().contains(fragment), "{err}");
        };
        let header = || matched("x-user", "beta", "Exact");
        refused(
            &[headers(vec![header(), header()])],
            "match 1 has 2 conditions",
        );
        refused(
            &[headers(vec![header()]), headers(vec![header()])],
            "match 2 routes by a header like an earlier match",
        );
        refused(&[headers(vec![])], "match 1 has no condition");
        refused(
            &[headers(vec![matched("x-user", "b", "Prefix")])],
            "has type \"Prefix\"",
        );
        refused(
            &[headers(vec![matched(
                COOKIE_MATCH_HEADER,
                "c.*",
                "RegularExpression",
            )])],
            "must be Exact",
        );
        let with_path = RouteMatch {
            path: Some(PathMatch {
                value: "/api".into(),
                match_type: "PathPrefix".into(),
            }),
            ..headers(vec![header()])
        };
        refused(&[with_path], "path condition (PathPrefix /api)");
    }
}
