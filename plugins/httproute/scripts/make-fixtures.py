#!/usr/bin/env python3
"""Writes the HTTPRoute plugin's golden fixtures, plugins/httproute/fixtures/<case>.json.

Inputs are built from one realistic HTTPRoute ("shop/web": a parentRef to a Gateway in another
namespace, two hostnames, a named rule to the stable Service "web" on port 80 with a path match,
a filter and a timeout, a rule to another Service, the status an implementation writes), as the
API server returns it (defaults filled in), at each point of a release. Every expected rule list
is spelt out below by hand from Kruise's behaviour (pkg/trafficrouting/network/gateway/gateway.go)
and the departures listed in the crate docs; nothing is computed by a copy of the plugin's logic.
Run it after changing a case: `python3 scripts/make-fixtures.py`.
"""

import copy
import json
import pathlib
import sys

# The helpers shared by the built-in plugins' fixture scripts, in plugins/fixtures_common.py.
sys.dont_write_bytecode = True  # no __pycache__ left in plugins/
sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[2]))
from fixtures_common import err, ok, write_fixtures  # noqa: E402

FIXTURES = pathlib.Path(__file__).resolve().parent.parent / "fixtures"

NS = "shop"
NAME = "web"
API_VERSION = "gateway.networking.k8s.io/v1"
ROLLOUT = {"namespace": NS, "name": "web-rollout", "rollout-id": None}
ORIGINAL_SPEC = "rollouts.kruise.io/original-spec-configuration"

LABELS = {"app": "web", "app.kubernetes.io/part-of": "shop"}
USER_ANNOTATIONS = {"shop.example.com/owner": "storefront-team"}

PARENT_REF = {
    "group": "gateway.networking.k8s.io",
    "kind": "Gateway",
    "name": "public",
    "namespace": "infra",
    "sectionName": "https",
}
HOSTNAMES = ["shop.example.com", "www.shop.example.com"]


def backend(service, port, weight=1):
    """A backendRef as the API server stores it: group, kind and weight defaulted."""
    return {"group": "", "kind": "Service", "name": service, "port": port, "weight": weight}


def prefix(value):
    return {"path": {"type": "PathPrefix", "value": value}}


# The storefront rule's own filter: a response header, so the step's request header changes
# become a filter of their own on the canary copy.
HSTS = {
    "type": "ResponseHeaderModifier",
    "responseHeaderModifier": {"set": [{"name": "Strict-Transport-Security", "value": "max-age=31536000"}]},
}


def storefront(backends, *, name="storefront", matches=None, filters=None):
    """The rule to the stable Service with `backends`: a path match, a filter, a timeout."""
    return {
        "name": name,
        "matches": matches or [prefix("/")],
        "filters": filters or [HSTS],
        "backendRefs": backends,
        "timeouts": {"request": "10s"},
    }


STATIC = {"matches": [prefix("/static")], "backendRefs": [backend("web-static", 8080)]}

ORIGINAL_RULES = [storefront([backend("web", 80)]), STATIC]


def spec(rules):
    return {"parentRefs": [PARENT_REF], "hostnames": HOSTNAMES, "rules": rules}


def record(rules=None):
    """The annotation's value: Kruise's custom-provider format, the spec before the release."""
    data = {"spec": spec(rules or ORIGINAL_RULES), "labels": LABELS, "annotations": USER_ANNOTATIONS}
    return json.dumps(data, separators=(",", ":"))


STATUS = {
    "parents": [
        {
            "parentRef": PARENT_REF,
            "controllerName": "gateway.envoyproxy.io/gatewayclass-controller",
            "conditions": [
                {
                    "type": "Accepted",
                    "status": "True",
                    "reason": "Accepted",
                    "message": "Route is accepted",
                    "observedGeneration": 1,
                    "lastTransitionTime": "2025-02-11T09:12:40Z",
                },
                {
                    "type": "ResolvedRefs",
                    "status": "True",
                    "reason": "ResolvedRefs",
                    "message": "Resolved all the Object references for the Route",
                    "observedGeneration": 1,
                    "lastTransitionTime": "2025-02-11T09:12:40Z",
                },
            ],
        }
    ]
}


def http_route(rules=None, *, recorded=None, resource_version="73412", generation=1):
    """The HTTPRoute as the API server returns it; `recorded` is the annotation's value."""
    annotations = dict(USER_ANNOTATIONS)
    if recorded is not None:
        annotations[ORIGINAL_SPEC] = recorded
    return {
        "apiVersion": API_VERSION,
        "kind": "HTTPRoute",
        "metadata": {
            "name": NAME,
            "namespace": NS,
            "uid": "5d0c3b8e-27a4-4c61-9f3e-8a1b2c3d4e5f",
            "resourceVersion": resource_version,
            "generation": generation,
            "creationTimestamp": "2025-02-11T09:12:38Z",
            "labels": LABELS,
            "annotations": annotations,
        },
        "spec": spec(rules or ORIGINAL_RULES),
        "status": STATUS,
    }


def ctx(weight, matches=(), *, modifier=None, canary_service="web-canary", config=None):
    return {
        "rollout": ROLLOUT,
        "stable-service": "web",
        "canary-service": canary_service,
        "weight": weight,
        "matches": list(matches),
        "request-header-modifier": modifier,
        "config": config if config is not None else {"httpRouteName": NAME},
    }


def condition(name, value, regex=False):
    return {"name": name, "value": value, "match-type": "RegularExpression" if regex else "Exact"}


def match(headers=(), query=(), path=None):
    """A step's route-match; `path` is (type, value)."""
    return {
        "path": None if path is None else {"match-type": path[0], "value": path[1]},
        "headers": list(headers),
        "query-params": list(query),
    }


def target():
    return {"api-version": API_VERSION, "kind": "HTTPRoute", "namespace": NS, "name": NAME}


def patch(body, resource_version="73412"):
    body = copy.deepcopy(body)
    body.setdefault("metadata", {})["resourceVersion"] = resource_version
    return {"merge-patch": {"target": target(), "subresource": None, "body": body}}


CASES = {}


def case(name, description, call, args, expect):
    assert name not in CASES, name
    CASES[name] = {"description": description, "call": call, "args": args, "expect": expect}


def route(name, description, context, objects, expect):
    case(name, description, "route", {"ctx": context, "objects": objects}, expect)


def restore(name, description, objects, expect):
    case(name, description, "restore", {"ctx": ctx(0), "objects": objects}, expect)


# ---------------------------------------------------------------------------------------------
# route-objects

case(
    "route-objects",
    "the HTTPRoute named by gateway.httpRouteName, in the Rollout's namespace",
    "route-objects",
    {"ctx": ctx(20)},
    ok([target()]),
)

case(
    "route-objects-without-route-name",
    "a trafficRoutings entry without httpRouteName is refused",
    "route-objects",
    {"ctx": ctx(20, config={"name": "web"})},
    err("invalid-input", "names no HTTPRoute: set gateway.httpRouteName"),
)

# ---------------------------------------------------------------------------------------------
# route: weights

# By hand: the storefront rule sends 100 - w to web and w to a copy of web's backendRef on
# web-canary, appended; the /static rule is not touched.
def weighted(w):
    return [storefront([backend("web", 80, 100 - w), backend("web-canary", 80, w)]), STATIC]


route(
    "route-first-weight",
    "first step, 20%: the spec is recorded and the storefront rule split 80/20 in one patch",
    ctx(20),
    [http_route()],
    ok([patch({"metadata": {"annotations": {ORIGINAL_SPEC: record()}}, "spec": {"rules": weighted(20)}})]),
)

route(
    "route-weight-change",
    "next step, 50%: only the rules change, computed from the recorded spec",
    ctx(50),
    [http_route(weighted(20), recorded=record(), resource_version="73420", generation=2)],
    ok([patch({"spec": {"rules": weighted(50)}}, "73420")]),
)

route(
    "route-weight-0",
    "weight 0 (also the host's check before the first step): the canary backendRef at weight 0 "
    "and the stable one at 100, as Kruise writes them",
    ctx(0),
    [http_route()],
    ok([patch({"metadata": {"annotations": {ORIGINAL_SPEC: record()}}, "spec": {"rules": weighted(0)}})]),
)

route(
    "route-weight-100",
    "100%: the stable backendRef stays, at weight 0",
    ctx(100),
    [http_route(weighted(50), recorded=record(), resource_version="73431", generation=3)],
    ok([patch({"spec": {"rules": weighted(100)}}, "73431")]),
)

route(
    "route-weight-idempotent",
    "the route is already at the step's weight: nothing to do",
    ctx(20),
    [http_route(weighted(20), recorded=record(), resource_version="73420", generation=2)],
    ok([]),
)

route(
    "route-without-weight-or-matches",
    "a step without traffic or matches leaves the route as it is (Kruise)",
    ctx(None),
    [http_route(weighted(20), recorded=record(), resource_version="73420", generation=2)],
    ok([]),
)

# ---------------------------------------------------------------------------------------------
# route: matches

X_CANARY = condition("x-canary", "always")
MOBILE = condition("user-agent", ".*(Android|iPhone).*", regex=True)
BETA_QUERY = condition("beta", "true")
MODIFIER = {"set": [["x-routed-to", "canary"]], "add": [["x-release", "v2"]], "remove": ["x-debug"]}

# By hand: each step match without a path is added to the storefront rule's only match
# (PathPrefix /); the conditions are written with their type.
STEP_ON_ROOT = [
    {**prefix("/"), "headers": [{"name": "x-canary", "type": "Exact", "value": "always"}]},
    {
        **prefix("/"),
        "headers": [{"name": "user-agent", "type": "RegularExpression", "value": ".*(Android|iPhone).*"}],
        "queryParams": [{"name": "beta", "type": "Exact", "value": "true"}],
    },
]
STEP_HEADER_FILTER = {
    "type": "RequestHeaderModifier",
    "requestHeaderModifier": {
        "set": [{"name": "x-routed-to", "value": "canary"}],
        "add": [{"name": "x-release", "value": "v2"}],
        "remove": ["x-debug"],
    },
}
# The canary copy of the storefront rule: before it, named storefront-canary, its filter and
# timeout kept, the step's header changes added as a filter, web-canary alone.
CANARY_STOREFRONT = storefront(
    [backend("web-canary", 80)],
    name="storefront-canary",
    matches=STEP_ON_ROOT,
    filters=[HSTS, STEP_HEADER_FILTER],
)
AB_RULES = [CANARY_STOREFRONT, *ORIGINAL_RULES]

route(
    "route-matches-headers-and-query",
    "A/B: an Exact header, or a RegularExpression header with a query parameter, on a canary "
    "copy of the storefront rule with the step's request header changes",
    ctx(None, [match([X_CANARY]), match([MOBILE], [BETA_QUERY])], modifier=MODIFIER),
    [http_route()],
    ok([patch({"metadata": {"annotations": {ORIGINAL_SPEC: record()}}, "spec": {"rules": AB_RULES}})]),
)

route(
    "route-matches-and-weight",
    "matches and a weight: the matches route and the weight is not used (Kruise)",
    ctx(30, [match([X_CANARY]), match([MOBILE], [BETA_QUERY])], modifier=MODIFIER),
    [http_route()],
    ok([patch({"metadata": {"annotations": {ORIGINAL_SPEC: record()}}, "spec": {"rules": AB_RULES}})]),
)

route(
    "route-matches-idempotent",
    "the canary copy is in place: nothing to do",
    ctx(None, [match([X_CANARY]), match([MOBILE], [BETA_QUERY])], modifier=MODIFIER),
    [http_route(AB_RULES, recorded=record(), resource_version="73425", generation=2)],
    ok([]),
)

route(
    "route-weight-after-matches",
    "a weight step after an A/B step starts from the recorded rules: the canary copy goes (Kruise "
    "would keep it, working from the route as it is)",
    ctx(40),
    [http_route(AB_RULES, recorded=record(), resource_version="73425", generation=2)],
    ok([patch({"spec": {"rules": weighted(40)}}, "73425")]),
)

# Two rules to web: the storefront and the API (port 8080), then /static.
API = {"matches": [prefix("/api")], "backendRefs": [backend("web", 8080)]}
TWO_STABLE_RULES = [storefront([backend("web", 80)]), API, STATIC]

route(
    "route-matches-with-paths",
    "A/B with path matches: each stands alone (Kruise), on the copy of the first rule to web only; "
    "a match without path goes on every copy",
    ctx(
        None,
        [
            match(path=("PathPrefix", "/beta")),
            match([X_CANARY], path=("Exact", "/checkout")),
            match(query=[BETA_QUERY]),
        ],
    ),
    [http_route(TWO_STABLE_RULES)],
    ok(
        [
            patch(
                {
                    "metadata": {"annotations": {ORIGINAL_SPEC: record(TWO_STABLE_RULES)}},
                    "spec": {
                        "rules": [
                            storefront(
                                [backend("web-canary", 80)],
                                name="storefront-canary",
                                matches=[
                                    {"path": {"type": "PathPrefix", "value": "/beta"}},
                                    {
                                        "path": {"type": "Exact", "value": "/checkout"},
                                        "headers": [{"name": "x-canary", "type": "Exact", "value": "always"}],
                                    },
                                    {**prefix("/"), "queryParams": [{"name": "beta", "type": "Exact", "value": "true"}]},
                                ],
                            ),
                            TWO_STABLE_RULES[0],
                            {
                                "matches": [
                                    {**prefix("/api"), "queryParams": [{"name": "beta", "type": "Exact", "value": "true"}]}
                                ],
                                "backendRefs": [backend("web-canary", 8080)],
                            },
                            API,
                            STATIC,
                        ]
                    },
                }
            )
        ]
    ),
)

# The storefront rule with a request header filter of its own.
OWN_HEADERS = {
    "type": "RequestHeaderModifier",
    "requestHeaderModifier": {
        "set": [{"name": "X-Routed-To", "value": "stable"}, {"name": "x-shop", "value": "eu"}],
        "remove": ["x-debug"],
    },
}
OWN_HEADERS_RULES = [storefront([backend("web", 80)], filters=[OWN_HEADERS]), STATIC]

route(
    "route-matches-merge-header-filter",
    "the rule has a RequestHeaderModifier of its own: Gateway API allows one, so the step's "
    "changes go into it (set replaces the header of the same name, removals are not repeated)",
    ctx(None, [match([X_CANARY])], modifier=MODIFIER),
    [http_route(OWN_HEADERS_RULES)],
    ok(
        [
            patch(
                {
                    "metadata": {"annotations": {ORIGINAL_SPEC: record(OWN_HEADERS_RULES)}},
                    "spec": {
                        "rules": [
                            storefront(
                                [backend("web-canary", 80)],
                                name="storefront-canary",
                                matches=[STEP_ON_ROOT[0]],
                                filters=[
                                    {
                                        "type": "RequestHeaderModifier",
                                        "requestHeaderModifier": {
                                            "set": [
                                                {"name": "x-routed-to", "value": "canary"},
                                                {"name": "x-shop", "value": "eu"},
                                            ],
                                            "remove": ["x-debug"],
                                            "add": [{"name": "x-release", "value": "v2"}],
                                        },
                                    }
                                ],
                            ),
                            *OWN_HEADERS_RULES,
                        ]
                    },
                }
            )
        ]
    ),
)

# An API rule that strips its prefix: Gateway API allows it a single PathPrefix match.
REWRITE = {"type": "URLRewrite", "urlRewrite": {"path": {"type": "ReplacePrefixMatch", "replacePrefixMatch": "/"}}}
API_REWRITE = {
    "name": "api",
    "matches": [prefix("/api")],
    "filters": [REWRITE],
    "backendRefs": [backend("web", 8080)],
}
REWRITE_RULES = [API_REWRITE, STATIC]

route(
    "route-matches-prefix-rewrite",
    "a rule that replaces its path prefix gets one canary copy per match, named api-canary-<n>",
    ctx(None, [match([X_CANARY]), match(query=[BETA_QUERY])]),
    [http_route(REWRITE_RULES)],
    ok(
        [
            patch(
                {
                    "metadata": {"annotations": {ORIGINAL_SPEC: record(REWRITE_RULES)}},
                    "spec": {
                        "rules": [
                            {
                                "name": "api-canary-1",
                                "matches": [
                                    {**prefix("/api"), "headers": [{"name": "x-canary", "type": "Exact", "value": "always"}]}
                                ],
                                "filters": [REWRITE],
                                "backendRefs": [backend("web-canary", 8080)],
                            },
                            {
                                "name": "api-canary-2",
                                "matches": [
                                    {**prefix("/api"), "queryParams": [{"name": "beta", "type": "Exact", "value": "true"}]}
                                ],
                                "filters": [REWRITE],
                                "backendRefs": [backend("web-canary", 8080)],
                            },
                            *REWRITE_RULES,
                        ]
                    },
                }
            )
        ]
    ),
)

# ---------------------------------------------------------------------------------------------
# route: a route Kruise left mid-release (no record; canary backendRef at 20%)

KRUISE_LEFT = [storefront([backend("web", 80, 80), backend("web-canary", 80, 20)]), STATIC]
# By hand: Kruise's finalising, on the rule that had the canary backendRef only: canary gone,
# web back at weight 1 (which is what it was here).
route(
    "route-takes-over-kruise-routing",
    "no record but canary routing (Kruise mid-release): the spec without it is recorded, and the "
    "step routed from that",
    ctx(40),
    [http_route(KRUISE_LEFT)],
    ok([patch({"metadata": {"annotations": {ORIGINAL_SPEC: record()}}, "spec": {"rules": weighted(40)}})]),
)

# ---------------------------------------------------------------------------------------------
# route: refusals

route(
    "route-no-rule-to-stable-service",
    "no rule sends traffic to Service web: refused, naming the Services it does send to",
    ctx(0),
    [http_route([{"matches": [prefix("/")], "backendRefs": [backend("storefront-v1", 80)]}, STATIC])],
    err(
        "invalid-input",
        "HTTPRoute shop/web has no rule whose backendRefs name the stable Service web (its rules "
        "send traffic to storefront-v1, web-static); add a backendRef to Service web",
    ),
)

route(
    "route-canary-service-disabled",
    "disableGenerateCanaryService: stable and canary are one Service, which an HTTPRoute cannot "
    "split; refused (Kruise would break the route)",
    ctx(0, canary_service="web"),
    [http_route()],
    err("invalid-input", "the Rollout sets disableGenerateCanaryService, so the stable and the canary pods"),
)

route(
    "route-http-route-missing",
    "the HTTPRoute does not exist",
    ctx(0),
    [],
    err("invalid-input", "HTTPRoute shop/web not found; create it, or name the right HTTPRoute"),
)

route(
    "route-malformed-record",
    "the record is not the spec's JSON: refused, as the original is unknown",
    ctx(20),
    [http_route(weighted(20), recorded="{\"spec\":", resource_version="73420", generation=2)],
    err("invalid-input", "put the spec back by hand and remove the annotation"),
)

# ---------------------------------------------------------------------------------------------
# restore

restore(
    "restore-after-weights",
    "the recorded rules back exactly and the record removed, in one patch",
    [http_route(weighted(100), recorded=record(), resource_version="73440", generation=4)],
    ok([patch({"metadata": {"annotations": {ORIGINAL_SPEC: None}}, "spec": {"rules": ORIGINAL_RULES}}, "73440")]),
)

restore(
    "restore-after-matches",
    "the canary copy goes with the record",
    [http_route(AB_RULES, recorded=record(), resource_version="73425", generation=2)],
    ok([patch({"metadata": {"annotations": {ORIGINAL_SPEC: None}}, "spec": {"rules": ORIGINAL_RULES}}, "73425")]),
)

restore(
    "restore-record-only",
    "the rules are already back (a step at weight 0 never applied, or a restart): only the record goes",
    [http_route(recorded=record(), resource_version="73441", generation=5)],
    ok([patch({"metadata": {"annotations": {ORIGINAL_SPEC: None}}}, "73441")]),
)

restore(
    "restore-done",
    "no record and no canary routing: restore is done",
    [http_route(resource_version="73442", generation=5)],
    ok([]),
)

restore(
    "restore-http-route-missing",
    "the HTTPRoute is gone: nothing to restore",
    [],
    ok([]),
)

restore(
    "restore-kruise-left-routing",
    "no record but canary routing (Kruise mid-release): cleaned as Kruise finalises, in the rule "
    "that had the canary backendRef only",
    [http_route(KRUISE_LEFT)],
    ok([patch({"spec": {"rules": ORIGINAL_RULES}})]),
)


def main():
    write_fixtures(FIXTURES, CASES)


if __name__ == "__main__":
    main()
