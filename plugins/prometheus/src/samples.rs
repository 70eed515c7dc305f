//! The provider's answer, the `data` object of Prometheus' HTTP API, as the `result` of the
//! conditions:
//! - `scalar`: the number;
//! - `vector`: the sample values, one per series, in the order Prometheus returned them;
//! - `matrix`: every value of every series, series by series in the order returned, each
//!   series' values oldest first;
//! - `string`: the string.
//!
//! Values are the strings Prometheus writes (`"0.312"`, `"NaN"`, `"+Inf"`, `"-Inf"`).

use serde_json::Value as Json;

use crate::value::Value;

/// The `result` of an answer, or why the answer is not a Prometheus query result.
pub fn parse(answer: &str) -> Result<Value, String> {
    let json: Json =
        serde_json::from_str(answer).map_err(|err| format!("the answer is not JSON ({err})"))?;
    let data = unwrap_envelope(&json)?;
    let result = data.get("result").ok_or("the answer has no `result`")?;
    match data.get("resultType").and_then(Json::as_str) {
        Some("scalar") => sample_value(result).map(Value::Number),
        Some("string") => match result.get(1) {
            Some(Json::String(text)) => Ok(Value::Text(text.clone())),
            _ => Err(format!(
                "the string result {result} is not [<time>, \"<text>\"]"
            )),
        },
        Some("vector") => series(result)?
            .iter()
            .map(|series| match series.get("value") {
                Some(sample) => sample_value(sample).map(Value::Number),
                None => Err(no_float_samples(series)),
            })
            .collect::<Result<_, _>>()
            .map(Value::List),
        Some("matrix") => {
            let mut values = Vec::new();
            for series in series(result)? {
                let samples = series
                    .get("values")
                    .ok_or_else(|| no_float_samples(series))?
                    .as_array()
                    .ok_or("a series' `values` is not a list")?;
                for sample in samples {
                    values.push(Value::Number(sample_value(sample)?));
                }
            }
            Ok(Value::List(values))
        }
        Some(other) => Err(format!(
            "unknown resultType {other:?} (expected scalar, vector, matrix or string)"
        )),
        None => Err("the answer has no `resultType`".into()),
    }
}

/// The host passes `data`; a whole API response (`{"status", "data"}`) is accepted too, and its
/// error reported.
fn unwrap_envelope(json: &Json) -> Result<&Json, String> {
    match json.get("status").and_then(Json::as_str) {
        Some("error") => Err(format!(
            "Prometheus answered with an error: {} ({})",
            json.get("error")
                .and_then(Json::as_str)
                .unwrap_or("no message"),
            json.get("errorType")
                .and_then(Json::as_str)
                .unwrap_or("no type")
        )),
        Some(_) => json
            .get("data")
            .ok_or_else(|| "the answer has no `data`".into()),
        None => Ok(json),
    }
}

fn series(result: &Json) -> Result<&Vec<Json>, String> {
    result
        .as_array()
        .ok_or_else(|| format!("the result {result} is not a list of series"))
}

/// Native histograms come as `histogram` / `histograms` instead of `value` / `values`.
fn no_float_samples(series: &Json) -> String {
    if series.get("histogram").is_some() || series.get("histograms").is_some() {
        "the query returned native histograms, which a condition cannot compare: query a \
         number from them, for example with histogram_quantile() or histogram_count()"
            .into()
    } else {
        format!("the series {series} has no value")
    }
}

/// `[<unix time>, "<value>"]` to the value.
fn sample_value(sample: &Json) -> Result<f64, String> {
    match sample.get(1) {
        Some(Json::String(text)) => text
            .parse()
            .map_err(|_| format!("the sample value {text:?} is not a number")),
        Some(Json::Number(number)) => number
            .as_f64()
            .ok_or_else(|| format!("the sample value {number} is not a number")),
        _ => Err(format!("the sample {sample} is not [<time>, \"<value>\"]")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn numbers(value: Value) -> Vec<f64> {
        let Value::List(items) = value else {
            panic!("{value:?} is not a list")
        };
        items
            .into_iter()
            .map(|item| match item {
                Value::Number(n) => n,
                other => panic!("{other:?}"),
            })
            .collect()
    }

    #[test]
    fn reads_every_result_type() {
        let scalar = parse(r#"{"resultType":"scalar","result":[1700000000.1,"0.5"]}"#);
        assert_eq!(scalar, Ok(Value::Number(0.5)));
        let text = parse(r#"{"resultType":"string","result":[1700000000,"ok"]}"#);
        assert_eq!(text, Ok(Value::Text("ok".into())));
        let vector = parse(
            r#"{"resultType":"vector","result":[
                {"metric":{"pod":"a"},"value":[1700000000,"0.25"]},
                {"metric":{"pod":"b"},"value":[1700000000,"NaN"]},
                {"metric":{"pod":"c"},"value":[1700000000,"+Inf"]},
                {"metric":{"pod":"d"},"value":[1700000000,"-Inf"]}]}"#,
        )
        .unwrap();
        let vector = numbers(vector);
        assert_eq!(vector[0], 0.25);
        assert!(vector[1].is_nan());
        assert_eq!(vector[2..], [f64::INFINITY, f64::NEG_INFINITY]);
        let matrix = parse(
            r#"{"resultType":"matrix","result":[
                {"metric":{"pod":"a"},"values":[[1,"1"],[2,"2"]]},
                {"metric":{"pod":"b"},"values":[[1,"3"]]}]}"#,
        );
        assert_eq!(numbers(matrix.unwrap()), [1.0, 2.0, 3.0]);
        let empty = parse(r#"{"resultType":"vector","result":[]}"#);
        assert_eq!(empty, Ok(Value::List(Vec::new())));
    }

    #[test]
    fn accepts_a_whole_api_response() {
        let ok = parse(r#"{"status":"success","data":{"resultType":"scalar","result":[0,"1"]}}"#);
        assert_eq!(ok, Ok(Value::Number(1.0)));
        let err = parse(r#"{"status":"error","errorType":"bad_data","error":"parse error"}"#);
        assert_eq!(
            err,
            Err("Prometheus answered with an error: parse error (bad_data)".into())
        );
    }

    #[test]
    fn explains_answers_it_cannot_read() {
        let cases = [
            ("<html>", "not JSON"),
            (r#"{"result":[]}"#, "no `resultType`"),
            (r#"{"resultType":"vector"}"#, "no `result`"),
            (
                r#"{"resultType":"streams","result":[]}"#,
                "unknown resultType \"streams\"",
            ),
            (
                r#"{"resultType":"vector","result":{}}"#,
                "not a list of series",
            ),
            (
                r#"{"resultType":"vector","result":[{"value":[1,"x"]}]}"#,
                "\"x\" is not a number",
            ),
            (
                r#"{"resultType":"vector","result":[{"histogram":[1,{}]}]}"#,
                "native histograms",
            ),
        ];
        for (answer, expected) in cases {
            let err = parse(answer).unwrap_err();
            assert!(err.contains(expected), "{answer}: {err}");
        }
    }
}
