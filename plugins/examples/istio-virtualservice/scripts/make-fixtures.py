#!/usr/bin/env python3
"""Writes the Istio VirtualService example plugin's golden fixtures, ../fixtures/<case>.json.

One realistic VirtualService ("shop/web": an /api/ route and a catch-all route to the stable
Service `web`, a /static/ route to another Service) goes through a release: 20%, 50%, a header
match with request header changes, then restore. Every expected VirtualService state below is
spelt out by hand from Kruise Rollout's Lua script for VirtualServices and the plugin's README;
nothing is computed by re-implementing the plugin. Run it after changing a case:
`python3 scripts/make-fixtures.py`.
"""

import copy
import json
import pathlib

FIXTURES = pathlib.Path(__file__).resolve().parent.parent / "fixtures"

NS = "shop"
ROLLOUT = {"namespace": NS, "name": "web-rollout", "rollout-id": None}
ORIGINAL_SPEC = "rollouts.kruise.io/original-spec-configuration"
REF = {"apiVersion": "networking.istio.io/v1", "kind": "VirtualService", "name": "web"}

# ---------------------------------------------------------------------------------------------
# The VirtualService before the rollout, as the API server returns it.

LABELS = {"app": "web", "app.kubernetes.io/managed-by": "Helm"}
ANNOTATIONS = {"meta.helm.sh/release-name": "shop", "meta.helm.sh/release-namespace": "shop"}
RETRIES = {"attempts": 3, "perTryTimeout": "2s", "retryOn": "5xx,reset,connect-failure"}
HSTS = {"response": {"set": {"strict-transport-security": "max-age=31536000"}}}


def dest(host, weight=None, *, port=80, subset=None):
    """An HTTPRouteDestination / RouteDestination."""
    destination = {"host": host}
    if subset is not None:
        destination["subset"] = subset
    if port is not None:
        destination["port"] = {"number": port}
    out = {"destination": destination}
    if weight is not None:
        out["weight"] = weight
    return out


def api_rule(*route):
    return {
        "name": "api",
        "match": [{"uri": {"prefix": "/api/"}}],
        "timeout": "5s",
        "retries": RETRIES,
        "route": list(route),
    }


STATIC_RULE = {
    "name": "static",
    "match": [{"uri": {"prefix": "/static/"}}],
    "route": [dest("cdn-cache.shop.svc.cluster.local")],
}


def default_rule(*route):
    return {"name": "default", "headers": HSTS, "route": list(route)}


# The stable Service is named two ways: `web` and its FQDN.
STABLE_API = dest("web")
STABLE_DEFAULT = dest("web.shop.svc.cluster.local")

ORIGINAL_HTTP = [api_rule(STABLE_API), STATIC_RULE, default_rule(STABLE_DEFAULT)]


def spec(http):
    return {"hosts": ["shop.example.com"], "gateways": ["istio-ingress/public"], "http": http}


ORIGINAL = spec(ORIGINAL_HTTP)
# What the annotation records: Kruise's format, the spec with the labels and other annotations.
RECORD = json.dumps({"spec": ORIGINAL, "labels": LABELS, "annotations": ANNOTATIONS})


def virtual_service(spec_, resource_version, *, recorded=RECORD, api_version="networking.istio.io/v1", name="web"):
    annotations = dict(ANNOTATIONS)
    if recorded is not None:
        annotations[ORIGINAL_SPEC] = recorded
    return {
        "apiVersion": api_version,
        "kind": "VirtualService",
        "metadata": {
            "name": name,
            "namespace": NS,
            "uid": "3c1f0e2a-7b9d-4c5e-8f10-2a3b4c5d6e7f",
            "resourceVersion": resource_version,
            "generation": int(resource_version) - 48210,
            "creationTimestamp": "2025-03-01T09:00:00Z",
            "labels": LABELS,
            "annotations": annotations,
        },
        "spec": spec_,
    }


# The states of the VirtualService through the release, written out by hand.

# 20%: each rule to the stable Service keeps 80% and sends 20% to web-canary on the same port.
HTTP_20 = [
    api_rule(dest("web", 80), dest("web-canary", 20)),
    STATIC_RULE,
    default_rule(dest("web.shop.svc.cluster.local", 80), dest("web-canary", 20)),
]
# 50%, computed from the original (not from the 20% state, which would give three destinations).
HTTP_50 = [
    api_rule(dest("web", 50), dest("web-canary", 50)),
    STATIC_RULE,
    default_rule(dest("web.shop.svc.cluster.local", 50), dest("web-canary", 50)),
]
# Header matches: a canary copy of each stable rule just before it, with the rule's own match
# AND the step's, the rule's settings (timeout, retries, response headers), the step's request
# header changes, and only the canary destination. The stable rules are back to the original.
CANARY_HEADERS = {"x-canary": {"exact": "always"}, "user-agent": {"regex": ".*Android.*"}}
REQUEST_CHANGES = {
    "set": {"x-release": "canary"},
    "add": {"x-canary-step": "3"},
    "remove": ["x-debug"],
}
HTTP_MATCHES = [
    {
        "name": "api-canary",
        "match": [{"uri": {"prefix": "/api/"}, "headers": CANARY_HEADERS}],
        "timeout": "5s",
        "retries": RETRIES,
        "route": [dest("web-canary")],
        "headers": {"request": REQUEST_CHANGES},
    },
    api_rule(STABLE_API),
    STATIC_RULE,
    {
        "name": "default-canary",
        "headers": {**HSTS, "request": REQUEST_CHANGES},
        "route": [dest("web-canary")],
        "match": [{"headers": CANARY_HEADERS}],
    },
    default_rule(STABLE_DEFAULT),
]

VS_ORIGINAL = virtual_service(ORIGINAL, "48213", recorded=None)
VS_20 = virtual_service(spec(HTTP_20), "48214")
VS_50 = virtual_service(spec(HTTP_50), "48215")
VS_MATCHES = virtual_service(spec(HTTP_MATCHES), "48216")

# ---------------------------------------------------------------------------------------------


def ctx(weight=None, *, matches=(), modifier=None, canary="web-canary", config=None):
    return {
        "rollout": ROLLOUT,
        "stable-service": "web",
        "canary-service": canary,
        "weight": weight,
        "matches": list(matches),
        "request-header-modifier": modifier,
        "config": REF if config is None else config,
    }


def match(path=None, headers=(), query=()):
    return {
        "path": None if path is None else {"value": path[1], "match-type": path[0]},
        "headers": [{"name": n, "value": v, "match-type": t} for (t, n, v) in headers],
        "query-params": [{"name": n, "value": v, "match-type": t} for (t, n, v) in query],
    }


def target(name="web", api_version="networking.istio.io/v1"):
    return {"api-version": api_version, "kind": "VirtualService", "namespace": NS, "name": name}


def merge_patch(body, name="web"):
    return {"merge-patch": {"target": target(name), "subresource": None, "body": body}}


CASES = {}


def case(name, description, call, args, expect):
    assert name not in CASES, name
    CASES[name] = {"description": description, "call": call, "args": args, "expect": expect}


def ok(value):
    return {"ok": value}


def err(kind, fragment):
    return {"err": {kind: fragment}}


# --- route-objects ------------------------------------------------------------------------------

case(
    "route-objects",
    "the VirtualService named by the customNetworkRefs entry, in the Rollout's namespace",
    "route-objects",
    {"ctx": ctx(20)},
    ok([target()]),
)
case(
    "route-objects-v1beta1",
    "older apiVersions of VirtualService are read and patched in the version the Rollout names",
    "route-objects",
    {"ctx": ctx(20, config={**REF, "apiVersion": "networking.istio.io/v1beta1"})},
    ok([target(api_version="networking.istio.io/v1beta1")]),
)
case(
    "route-objects-wrong-kind",
    "a customNetworkRefs entry of another kind is refused with the reason",
    "route-objects",
    {"ctx": ctx(20, config={**REF, "kind": "DestinationRule"})},
    err("invalid-input", 'names a "DestinationRule" (kind must be VirtualService)'),
)
case(
    "route-objects-wrong-group",
    "a VirtualService of another API group is refused",
    "route-objects",
    {"ctx": ctx(20, config={**REF, "apiVersion": "networking.example.com/v1"})},
    err("invalid-input", 'has apiVersion "networking.example.com/v1"'),
)

# --- weights ------------------------------------------------------------------------------------

case(
    "route-weight-first",
    "first step, 20%: the original spec, labels and annotations are recorded in the annotation, "
    "and every rule to the stable Service (short name or FQDN) keeps 80% and sends 20% to "
    "web-canary on the same port; the /static/ rule is untouched",
    "route",
    {"ctx": ctx(20), "objects": [VS_ORIGINAL]},
    ok([
        merge_patch({
            "metadata": {"annotations": {ORIGINAL_SPEC: RECORD}, "resourceVersion": "48213"},
            "spec": {"http": HTTP_20},
        })
    ]),
)
case(
    "route-weight-later",
    "next step, 50%: computed from the recorded original, not from the 20% state; the "
    "annotation stays as it is",
    "route",
    {"ctx": ctx(50), "objects": [VS_20]},
    ok([merge_patch({"metadata": {"resourceVersion": "48214"}, "spec": {"http": HTTP_50}})]),
)
case(
    "route-weight-idempotent",
    "the VirtualService already routes 50%: no change",
    "route",
    {"ctx": ctx(50), "objects": [VS_50]},
    ok([]),
)
case(
    "route-weight-100",
    "all traffic to the new version: the stable destinations keep weight 0",
    "route",
    {"ctx": ctx(100), "objects": [VS_50]},
    ok([
        merge_patch({
            "metadata": {"resourceVersion": "48215"},
            "spec": {
                "http": [
                    api_rule(dest("web", 0), dest("web-canary", 100)),
                    STATIC_RULE,
                    default_rule(dest("web.shop.svc.cluster.local", 0), dest("web-canary", 100)),
                ]
            },
        })
    ]),
)

SHARED = spec([
    {"route": [dest("web", 90), dest("web-legacy", 10)]},
])
case(
    "route-weight-shared-rule",
    "a rule that already splits between web (90) and web-legacy (10): both are scaled to 75% "
    "(67.5 and 7.5, rounded down), the rounding remainder goes to the stable destination so "
    "the weights add up to 100, and the canary gets 25",
    "route",
    {"ctx": ctx(25), "objects": [virtual_service(SHARED, "48213", recorded=None)]},
    ok([
        merge_patch({
            "metadata": {
                "annotations": {
                    ORIGINAL_SPEC: json.dumps({"spec": SHARED, "labels": LABELS, "annotations": ANNOTATIONS})
                },
                "resourceVersion": "48213",
            },
            "spec": {"http": [{"route": [dest("web", 68), dest("web-legacy", 7), dest("web-canary", 25)]}]},
        })
    ]),
)

TCP = {
    "hosts": ["web.shop.svc.cluster.local"],
    "tcp": [{"match": [{"port": 5432}], "route": [dest("web", port=5432)]}],
}
case(
    "route-weight-tcp",
    "tcp routes to the stable Service are weighted too, as in Kruise's script",
    "route",
    {"ctx": ctx(10), "objects": [virtual_service(TCP, "48213", recorded=None)]},
    ok([
        merge_patch({
            "metadata": {
                "annotations": {
                    ORIGINAL_SPEC: json.dumps({"spec": TCP, "labels": LABELS, "annotations": ANNOTATIONS})
                },
                "resourceVersion": "48213",
            },
            "spec": {
                "tcp": [{
                    "match": [{"port": 5432}],
                    "route": [dest("web", 90, port=5432), dest("web-canary", 10, port=5432)],
                }]
            },
        })
    ]),
)

SUBSET = spec([{"route": [dest("web.shop.svc.cluster.local")]}])
SUBSET_RECORD = json.dumps({"spec": SUBSET, "labels": LABELS, "annotations": ANNOTATIONS})
case(
    "route-weight-canary-subset",
    "the Rollout sets disableGenerateCanaryService (canary Service = stable Service): the canary "
    "destination is the stable host's subset `canary`, which a DestinationRule must define",
    "route",
    {"ctx": ctx(30, canary="web"), "objects": [virtual_service(SUBSET, "48213", recorded=None)]},
    ok([
        merge_patch({
            "metadata": {"annotations": {ORIGINAL_SPEC: SUBSET_RECORD}, "resourceVersion": "48213"},
            "spec": {
                "http": [{
                    "route": [
                        dest("web.shop.svc.cluster.local", 70),
                        dest("web.shop.svc.cluster.local", 30, subset="canary"),
                    ]
                }]
            },
        })
    ]),
)
case(
    "route-weight-canary-subset-configured",
    "the subset's name comes from the plugin's ConfigMap config (canarySubset)",
    "route",
    {
        "ctx": ctx(30, canary="web", config={"canarySubset": "gray", **REF}),
        "objects": [virtual_service(SUBSET, "48213", recorded=None)],
    },
    ok([
        merge_patch({
            "metadata": {"annotations": {ORIGINAL_SPEC: SUBSET_RECORD}, "resourceVersion": "48213"},
            "spec": {
                "http": [{
                    "route": [
                        dest("web.shop.svc.cluster.local", 70),
                        dest("web.shop.svc.cluster.local", 30, subset="gray"),
                    ]
                }]
            },
        })
    ]),
)

# --- matches ------------------------------------------------------------------------------------

HEADER_STEP = ctx(
    None,
    matches=[match(headers=[("Exact", "X-Canary", "always"), ("RegularExpression", "User-Agent", ".*Android.*")])],
    modifier={"set": [["x-release", "canary"]], "add": [["x-canary-step", "3"]], "remove": ["x-debug"]},
)
case(
    "route-matches-headers-modifier",
    "a step with a header match (names lowercased for Istio) and request header changes, after "
    "the 50% step: a canary copy of each stable rule is put just before it, matching the rule's "
    "own match and the step's, with the step's set/add/remove in headers.request; the weights "
    "are gone because the stable rules are the original ones again",
    "route",
    {"ctx": HEADER_STEP, "objects": [VS_50]},
    ok([merge_patch({"metadata": {"resourceVersion": "48215"}, "spec": {"http": HTTP_MATCHES}})]),
)
case(
    "route-matches-idempotent",
    "the VirtualService already routes the header match: no change",
    "route",
    {"ctx": HEADER_STEP, "objects": [VS_MATCHES]},
    ok([]),
)

PATH_STEP = ctx(
    None,
    matches=[
        match(path=("PathPrefix", "/api/v2/"), query=[("Exact", "beta", "1")]),
        match(path=("Exact", "/checkout")),
    ],
)
case(
    "route-matches-path-and-query",
    "path matches are combined with each rule's uri: /api/v2/ lies inside the api rule's /api/, "
    "/checkout does not, so the api rule's canary copy has one match and the catch-all's two; "
    "the first change records the original",
    "route",
    {"ctx": PATH_STEP, "objects": [VS_ORIGINAL]},
    ok([
        merge_patch({
            "metadata": {"annotations": {ORIGINAL_SPEC: RECORD}, "resourceVersion": "48213"},
            "spec": {
                "http": [
                    {
                        "name": "api-canary",
                        "match": [{"uri": {"prefix": "/api/v2/"}, "queryParams": {"beta": {"exact": "1"}}}],
                        "timeout": "5s",
                        "retries": RETRIES,
                        "route": [dest("web-canary")],
                    },
                    api_rule(STABLE_API),
                    STATIC_RULE,
                    {
                        "name": "default-canary",
                        "headers": HSTS,
                        "route": [dest("web-canary")],
                        "match": [
                            {"uri": {"prefix": "/api/v2/"}, "queryParams": {"beta": {"exact": "1"}}},
                            {"uri": {"exact": "/checkout"}},
                        ],
                    },
                    default_rule(STABLE_DEFAULT),
                ]
            },
        })
    ]),
)

REGEX = spec([
    {"name": "api", "match": [{"uri": {"regex": "^/api/v[0-9]+/"}}], "route": [dest("web")]},
])
case(
    "route-matches-regex-conflict",
    "a step path that would have to be combined with a rule's regular expression is refused",
    "route",
    {
        "ctx": ctx(None, matches=[match(path=("PathPrefix", "/api/v2/"))]),
        "objects": [virtual_service(REGEX, "48213", recorded=None)],
    },
    err("invalid-input", 'cannot be combined with the uri of http route "api"'),
)

API_ONLY = spec([api_rule(STABLE_API), STATIC_RULE])
case(
    "route-matches-unreachable",
    "the only rule to the stable Service takes /api/ and the step matches /checkout: no request "
    "could reach the canary, which is refused rather than routed as a no-op",
    "route",
    {
        "ctx": ctx(None, matches=[match(path=("Exact", "/checkout"))]),
        "objects": [virtual_service(API_ONLY, "48213", recorded=None)],
    },
    err("invalid-input", "so no traffic would reach the canary"),
)

# --- errors -------------------------------------------------------------------------------------

OTHERS = spec([
    {"name": "reviews", "match": [{"uri": {"prefix": "/reviews/"}}], "route": [dest("reviews")]},
    {"name": "default", "route": [dest("web.payments.svc.cluster.local")]},
])
case(
    "route-no-stable-route",
    "no rule sends traffic to the stable Service (web.payments is another namespace's web): "
    "refused, naming the hosts the rules do use",
    "route",
    {"ctx": ctx(20), "objects": [virtual_service(OTHERS, "48213", recorded=None)]},
    err(
        "invalid-input",
        "VirtualService shop/web has no http, tcp or tls route whose destination is the stable "
        "Service web (its routes go to reviews, web.payments.svc.cluster.local)",
    ),
)
case(
    "route-matches-no-stable-http-route",
    "header matches need an http rule to the stable Service; a tcp route is not enough",
    "route",
    {"ctx": HEADER_STEP, "objects": [virtual_service(TCP, "48213", recorded=None)]},
    err("invalid-input", "has no http route whose destination is the stable Service web"),
)
case(
    "route-virtualservice-missing",
    "the VirtualService does not exist (the host passes no object): retried later",
    "route",
    {"ctx": ctx(20), "objects": []},
    err("not-ready", "VirtualService shop/web does not exist"),
)
case(
    "route-malformed-annotation",
    "an annotation that is not the recorded spec is refused rather than guessed at",
    "route",
    {"ctx": ctx(20), "objects": [virtual_service(ORIGINAL, "48213", recorded="{not json")]},
    err("invalid-input", "its spec before the rollout is unknown"),
)

# --- restore ------------------------------------------------------------------------------------

case(
    "restore",
    "after the header-match step: the original spec is merged back and the annotation removed",
    "restore",
    {"ctx": HEADER_STEP, "objects": [VS_MATCHES]},
    ok([
        merge_patch({
            "metadata": {"annotations": {ORIGINAL_SPEC: None}, "resourceVersion": "48216"},
            "spec": {"http": ORIGINAL_HTTP},
        })
    ]),
)
case(
    "restore-done",
    "the VirtualService is the original and carries no annotation: nothing left to do",
    "restore",
    {"ctx": ctx(50), "objects": [virtual_service(copy.deepcopy(ORIGINAL), "48217", recorded=None)]},
    ok([]),
)
case(
    "restore-virtualservice-missing",
    "the VirtualService was deleted: nothing to restore",
    "restore",
    {"ctx": ctx(50), "objects": []},
    ok([]),
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
