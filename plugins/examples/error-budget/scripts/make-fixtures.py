#!/usr/bin/env python3
"""Writes the error-budget example plugin's golden fixtures, ../fixtures/<case>.json.

Each case cans the Prometheus answers the plugin gets through the host's `metrics` import (the
fixture's top-level `metrics` list, matched by provider and exact query text) and spells out
the expected decision by hand. Run it after changing a case: `python3 scripts/make-fixtures.py`.
"""

import json
import pathlib

FIXTURES = pathlib.Path(__file__).resolve().parent.parent / "fixtures"

QUERY = (
    'sum(rate(http_requests_total{namespace="shop",service="web-canary",code=~"5.."}[5m])) '
    '/ sum(rate(http_requests_total{namespace="shop",service="web-canary"}[5m]))'
)
PER_POD = (
    'sum by (pod) (rate(http_requests_total{service="web-canary",code=~"5.."}[5m])) '
    '/ sum by (pod) (rate(http_requests_total{service="web-canary"}[5m]))'
)
NOW_S = 1772618400.0  # 2026-03-04T10:00:00Z, the host's now


def settings(**extra):
    return {"provider": "prometheus", "query": QUERY, "budget": 0.05, **extra}


def ctx(config, *, step=(2, 4)):
    return {
        "rollout": {"namespace": "shop", "name": "web-rollout", "rollout-id": "release-42"},
        "step-index": step[0],
        "step-count": step[1],
        "elapsed-ms": 300_000,
        "now-unix-ms": int(NOW_S * 1000),
        "config": config,
        "args": [
            ["namespace", "shop"],
            ["rollout", "web-rollout"],
            ["workload", "web"],
            ["stable-revision", "6b7f9c8d4"],
            ["canary-revision", "5d8f6c7b9"],
        ],
    }


def vector(*series):
    """A Prometheus instant vector: (labels, value text) pairs."""
    return {"resultType": "vector", "result": [{"metric": labels, "value": [NOW_S, value]} for labels, value in series]}


def answer(data, query=QUERY, provider="prometheus"):
    return {"provider": provider, "query": query, "answer": data}


def failure(error, query=QUERY, provider="prometheus"):
    return {"provider": provider, "query": query, "error": error}


CASES = {}


def case(name, description, config, metrics, expect):
    assert name not in CASES, name
    fixture = {"description": description, "call": "evaluate", "args": {"ctx": ctx(config)}, "expect": expect}
    if metrics:
        fixture["metrics"] = metrics
    CASES[name] = fixture


def proceed():
    return {"ok": "proceed"}


def abort(reason):
    return {"ok": {"abort": reason}}


def pause(reason):
    return {"ok": {"pause": reason}}


def err(kind, fragment):
    return {"err": {kind: fragment}}


# --- measured ---------------------------------------------------------------------------------

case(
    "over-budget-aborts",
    "an error ratio of 0.31 against a budget of 0.05: the rollout is aborted, the reason carries "
    "the measured value",
    settings(),
    [answer(vector(({}, "0.31")))],
    abort("error budget exhausted: error ratio 0.31 is over the budget 0.05"),
)
case(
    "within-budget-proceeds",
    "an error ratio of 0.012 is within a budget of 0.05",
    settings(),
    [answer(vector(({}, "0.012")))],
    proceed(),
)
case(
    "at-budget-proceeds",
    "a ratio exactly at the budget is still within it",
    settings(),
    [answer(vector(({}, "0.05")))],
    proceed(),
)
case(
    "worst-series-decides",
    "a query giving one series per pod: the highest ratio decides, and the reason names its "
    "labels",
    settings(query=PER_POD, budget=0.1),
    [
        answer(
            vector(({"pod": "web-5d8f6c7b9-abcde"}, "0.02"), ({"pod": "web-5d8f6c7b9-xk2lp"}, "0.25"), ({"pod": "web-5d8f6c7b9-qq7rt"}, "NaN")),
            query=PER_POD,
        )
    ],
    abort(
        'error budget exhausted: error ratio 0.25 (the highest of 2 series: {pod="web-5d8f6c7b9-xk2lp"}) '
        "is over the budget 0.1"
    ),
)
case(
    "scalar-answer",
    "a query giving a scalar works like a one-sample vector",
    settings(query="scalar(sum(rate(errors_total[5m])) / sum(rate(requests_total[5m])))"),
    [
        answer(
            {"resultType": "scalar", "result": [NOW_S, "0.0499"]},
            query="scalar(sum(rate(errors_total[5m])) / sum(rate(requests_total[5m])))",
        )
    ],
    proceed(),
)
case(
    "budget-from-template-arg",
    "used as an AnalysisTemplate provider, `{{args.budget}}` arrives as a string, and a provider "
    "named otherwise is asked",
    {"provider": "thanos", "query": QUERY, "budget": "0.2"},
    [answer(vector(({}, "0.31")), provider="thanos")],
    abort("error budget exhausted: error ratio 0.31 is over the budget 0.2"),
)
case(
    "default-provider",
    "provider left out: the provider named prometheus is asked",
    {"query": QUERY, "budget": 0.05},
    [answer(vector(({}, "0")))],
    proceed(),
)

# --- nothing measured -------------------------------------------------------------------------

case(
    "no-samples-pauses",
    "the query matches no series (the canary has served no requests yet): wait for a person "
    "rather than guess",
    settings(),
    [answer(vector())],
    pause(f"no samples for {QUERY} (no series, or no requests to divide by); approve to go on"),
)
case(
    "nan-pauses",
    "a ratio of NaN is 0/0, no requests: no sample either",
    settings(),
    [answer(vector(({}, "NaN")))],
    pause(f"no samples for {QUERY} (no series, or no requests to divide by); approve to go on"),
)

# --- failures ---------------------------------------------------------------------------------

case(
    "query-fails",
    "the host could not ask Prometheus: a host failure with the host's message",
    settings(),
    [failure("Get http://prometheus.monitoring:9090/api/v1/query: connection refused")],
    err(
        "host-failure",
        f"querying prometheus for {QUERY} failed: Get http://prometheus.monitoring:9090/api/v1/query: connection refused",
    ),
)
case(
    "provider-not-granted",
    "the plugin asks a provider the fixture (standing in for the ConfigMap grants) knows "
    "nothing about",
    settings(provider="victoria"),
    [answer(vector(({}, "0.31")))],
    err("host-failure", "querying victoria for"),
)
case(
    "string-result",
    "a query that gives a string is not an error ratio",
    settings(query='"0.5"'),
    [answer({"resultType": "string", "result": [NOW_S, "0.5"]}, query='"0.5"')],
    err("invalid-input", 'is a "string", not a number'),
)

# --- settings ---------------------------------------------------------------------------------

case(
    "budget-as-percent",
    "a budget of 5 (meant as 5 %) would never abort: refused",
    settings(budget=5),
    [],
    err("invalid-input", "budget must be an error ratio between 0 and 1 (0.05 is 5 %), got 5"),
)
case(
    "no-query",
    "no query",
    {"budget": 0.05},
    [],
    err("invalid-input", "query must be PromQL giving an error ratio, got null"),
)
case(
    "unknown-setting",
    "a misspelt setting is refused",
    settings(budjet=0.1),
    [],
    err("invalid-input", 'unknown setting "budjet": error-budget takes provider, query and budget'),
)
case(
    "success-condition-refused",
    "used as an analysis provider with a successCondition: refused, the budget is the condition",
    settings(successCondition="result[0] < 0.05"),
    [],
    err("invalid-input", "successCondition is not used: error-budget compares the ratio with `budget` itself"),
)
case(
    "not-json",
    "settings that are not JSON",
    "budget: 0.05",
    [],
    err("invalid-input", "the settings are not JSON"),
)


def main():
    FIXTURES.mkdir(exist_ok=True)
    for old in FIXTURES.glob("*.json"):
        old.unlink()
    for name, fixture in CASES.items():
        text = json.dumps(fixture, indent=1, ensure_ascii=False) + "\n"
        (FIXTURES / f"{name}.json").write_text(text)
    print(f"wrote {len(CASES)} fixtures to {FIXTURES}")


if __name__ == "__main__":
    main()
