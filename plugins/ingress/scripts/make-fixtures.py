#!/usr/bin/env python3
"""Writes the Ingress plugin's golden fixtures, plugins/ingress/fixtures/<case>.json.

Inputs are built from one realistic Ingress ("shop/web": three hosts, a path to another Service,
a host without a path to the stable Service, TLS, the user's own annotations) and the canary
Ingress as the API server would return it at each point of a release. Every expectation is
spelt out below by hand from Kruise's behaviour (pkg/trafficrouting/network/ingress/ingress.go
and lua_configuration/trafficrouting_ingress/*.lua) and the departures listed in the crate
docs. Run it after changing a case: `python3 scripts/make-fixtures.py`.
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
CANARY = "web-canary"
UID = "3b2f6a1e-9c4d-4e7a-8f10-5d6c7b8a9e01"
CANARY_UID = "8e0d7c6b-5a49-4382-9170-f6e5d4c3b2a1"
ROLLOUT = {"namespace": NS, "name": "web-rollout", "rollout-id": None}

NGINX = "nginx.ingress.kubernetes.io"
ALB = "alb.ingress.kubernetes.io"
MSE = "mse.ingress.kubernetes.io"
INTERNAL = "internal.nginx.ingress.kubernetes.io"
LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration"

LABELS = {"app": "web", "app.kubernetes.io/part-of": "shop"}
# The user's own annotations, copied to the canary Ingress (but for last-applied).
USER_ANNOTATIONS = {
    "cert-manager.io/cluster-issuer": "letsencrypt-prod",
    f"{NGINX}/proxy-body-size": "8m",
}
TLS = [
    {"hosts": ["shop.example.com", "www.shop.example.com"], "secretName": "shop-tls"},
    {"hosts": ["api.shop.example.com"], "secretName": "api-shop-tls"},
]


def backend(service, port):
    key = "number" if isinstance(port, int) else "name"
    return {"service": {"name": service, "port": {key: port}}}


def path(value, path_type, service, port):
    return {"path": value, "pathType": path_type, "backend": backend(service, port)}


STABLE_RULES = [
    {
        "host": "shop.example.com",
        "http": {
            "paths": [
                path("/", "Prefix", "web", 80),
                path("/static", "Prefix", "web-static", 8080),
                path("/checkout", "Exact", "web", "http"),
            ]
        },
    },
    {"host": "api.shop.example.com", "http": {"paths": [path("/v2", "ImplementationSpecific", "web", "http")]}},
    {"host": "admin.shop.example.com", "http": {"paths": [path("/", "Prefix", "admin", 80)]}},
]

# By hand: the paths to Service web, sent to web-canary on the same port; /static (another
# Service) and the admin host (no path to web) are left out.
CANARY_RULES = [
    {
        "host": "shop.example.com",
        "http": {
            "paths": [
                path("/", "Prefix", "web-canary", 80),
                path("/checkout", "Exact", "web-canary", "http"),
            ]
        },
    },
    {"host": "api.shop.example.com", "http": {"paths": [path("/v2", "ImplementationSpecific", "web-canary", "http")]}},
]


def stable_ingress(*, class_name="nginx", user=USER_ANNOTATIONS, annotations=None, rules=None):
    user = {**user, **(annotations or {})}
    spec = {
        "ingressClassName": class_name,
        "defaultBackend": backend("web", "http"),
        "tls": TLS,
        "rules": rules or STABLE_RULES,
    }
    applied = {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "Ingress",
        "metadata": {"name": NAME, "namespace": NS, "labels": LABELS, "annotations": user},
        "spec": spec,
    }
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "Ingress",
        "metadata": {
            "name": NAME,
            "namespace": NS,
            "uid": UID,
            "resourceVersion": "481516",
            "generation": 3,
            "creationTimestamp": "2025-01-20T08:30:00Z",
            "labels": LABELS,
            "annotations": {**user, LAST_APPLIED: json.dumps(applied, separators=(",", ":")) + "\n"},
        },
        "spec": copy.deepcopy(spec),
        "status": {"loadBalancer": {"ingress": [{"ip": "203.0.113.10"}]}},
    }


OWNER = [{"apiVersion": "networking.k8s.io/v1", "kind": "Ingress", "name": NAME, "uid": UID}]


def canary_ingress(annotations, *, class_name="nginx", user=USER_ANNOTATIONS, rules=None, deleting=False):
    """The canary Ingress as the API server returns it: the user's annotations copied at
    creation, then `annotations`."""
    metadata = {
        "name": CANARY,
        "namespace": NS,
        "uid": CANARY_UID,
        "resourceVersion": "481977",
        "generation": 1,
        "creationTimestamp": "2025-03-01T10:00:00Z",
        "labels": LABELS,
        "annotations": {**user, **annotations},
        "ownerReferences": OWNER,
        "managedFields": [
            {
                "manager": "waxwing",
                "operation": "Apply",
                "apiVersion": "networking.k8s.io/v1",
                "time": "2025-03-01T10:00:00Z",
                "fieldsType": "FieldsV1",
                "fieldsV1": {"f:metadata": {"f:annotations": {}}, "f:spec": {"f:rules": {}}},
            }
        ],
    }
    if deleting:
        metadata["deletionTimestamp"] = "2025-03-01T11:00:00Z"
        metadata["deletionGracePeriodSeconds"] = 0
        metadata["finalizers"] = ["example.com/ingress-cleanup"]
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "Ingress",
        "metadata": metadata,
        "spec": {"ingressClassName": class_name, "tls": TLS, "rules": rules or CANARY_RULES},
        "status": {"loadBalancer": {"ingress": [{"ip": "203.0.113.10"}]}},
    }


def ctx(
    weight,
    matches=(),
    *,
    modifier=None,
    class_type="nginx",
    classes=None,
    stable_service="web",
    canary_service="web-canary",
    config=None,
):
    return {
        "rollout": ROLLOUT,
        "stable-service": stable_service,
        "canary-service": canary_service,
        "weight": weight,
        "matches": list(matches),
        "request-header-modifier": modifier,
        "config": config or {"name": NAME, "classType": class_type, "classes": classes or {}},
    }


def header(name, value, regex=False):
    return {"name": name, "value": value, "match-type": "RegularExpression" if regex else "Exact"}


def match(headers=(), query=(), route_path=None):
    return {"path": route_path, "headers": list(headers), "query-params": list(query)}


def modifier(set_=(), add=(), remove=()):
    return {"set": [list(h) for h in set_], "add": [list(h) for h in add], "remove": list(remove)}


def target(name):
    return {"api-version": "networking.k8s.io/v1", "kind": "Ingress", "namespace": NS, "name": name}


def apply_canary(annotations, *, class_name="nginx", rules=None, user=USER_ANNOTATIONS):
    return {
        "apply": {
            "apiVersion": "networking.k8s.io/v1",
            "kind": "Ingress",
            "metadata": {
                "name": CANARY,
                "namespace": NS,
                "labels": LABELS,
                "annotations": {**user, **annotations},
                "ownerReferences": OWNER,
            },
            "spec": {"ingressClassName": class_name, "rules": rules or CANARY_RULES, "tls": TLS},
        }
    }


def patch_canary(body):
    return {"merge-patch": {"target": target(CANARY), "subresource": None, "body": body}}


def annotations_patch(annotations):
    return patch_canary({"metadata": {"annotations": annotations}})


CASES = {}


def case(name, description, call, args, expect):
    assert name not in CASES, name
    CASES[name] = {"description": description, "call": call, "args": args, "expect": expect}


def route(name, description, context, objects, expect):
    case(name, description, "route", {"ctx": context, "objects": objects}, expect)


# ---------------------------------------------------------------------------------------------
# route-objects

case(
    "route-objects",
    "the stable Ingress and the canary Ingress, in the Rollout's namespace",
    "route-objects",
    {"ctx": ctx(20)},
    ok([target(NAME), target(CANARY)]),
)

case(
    "route-objects-without-ingress-name",
    "a trafficRoutings entry without an Ingress name is the user's to fix",
    "route-objects",
    {"ctx": ctx(20, config={"classType": "nginx"})},
    err("invalid-input", "names no Ingress: set ingress.name"),
)

# ---------------------------------------------------------------------------------------------
# nginx: weights

CANARY_ON = {f"{NGINX}/canary": "true"}

route(
    "route-creates-canary-at-weight-0",
    "nginx, first step at 20%: as Kruise, the canary Ingress is created at weight 0 (the user's "
    "labels and annotations but last-applied, the class, all TLS, only the paths to Service web "
    "sent to web-canary); the next call sets the weight",
    ctx(20),
    [stable_ingress()],
    ok([apply_canary({**CANARY_ON, f"{NGINX}/canary-weight": "0"})]),
)

route(
    "route-sets-step-weight",
    "nginx: the canary Ingress exists at weight 0; the step's 20% is patched in",
    ctx(20),
    [stable_ingress(), canary_ingress({**CANARY_ON, f"{NGINX}/canary-weight": "0"})],
    ok([annotations_patch({f"{NGINX}/canary-weight": "20"})]),
)

route(
    "route-weight-change",
    "nginx: the next step moves the canary from 20% to 50%",
    ctx(50),
    [stable_ingress(), canary_ingress({**CANARY_ON, f"{NGINX}/canary-weight": "20"})],
    ok([annotations_patch({f"{NGINX}/canary-weight": "50"})]),
)

route(
    "route-idempotent",
    "nginx: the canary Ingress already routes 20% as the step asks, nothing to change (foreign "
    "annotations and server fields are ignored)",
    ctx(20),
    [
        stable_ingress(),
        canary_ingress({**CANARY_ON, f"{NGINX}/canary-weight": "20", "example.com/synced-by": "lb-controller"}),
    ],
    ok([]),
)

route(
    "route-weight-0-creates-nothing",
    "a step that sends the canary nothing does not create the canary Ingress (Kruise)",
    ctx(0),
    [stable_ingress()],
    ok([]),
)

route(
    "route-without-weight-or-matches-leaves-routing",
    "a step with neither weight nor matches leaves the routing as it is (Kruise)",
    ctx(None),
    [stable_ingress(), canary_ingress({**CANARY_ON, f"{NGINX}/canary-weight": "20"})],
    ok([]),
)

route(
    "route-follows-stable-ingress-edit",
    "the user added /account to the stable Ingress mid-release: the canary Ingress's rules "
    "follow (Kruise copies them only at creation)",
    ctx(20),
    [
        stable_ingress(
            rules=[
                {
                    "host": "shop.example.com",
                    "http": {
                        "paths": STABLE_RULES[0]["http"]["paths"] + [path("/account", "Prefix", "web", 80)]
                    },
                },
                *STABLE_RULES[1:],
            ]
        ),
        canary_ingress({**CANARY_ON, f"{NGINX}/canary-weight": "20"}),
    ],
    ok(
        [
            patch_canary(
                {
                    "spec": {
                        "rules": [
                            {
                                "host": "shop.example.com",
                                "http": {
                                    "paths": [
                                        path("/", "Prefix", "web-canary", 80),
                                        path("/checkout", "Exact", "web-canary", "http"),
                                        path("/account", "Prefix", "web-canary", 80),
                                    ]
                                },
                            },
                            CANARY_RULES[1],
                        ]
                    }
                }
            )
        ]
    ),
)

# ---------------------------------------------------------------------------------------------
# nginx: matches

route(
    "route-header-exact",
    "nginx, a step routing by header only: the weight annotation goes, by-header and "
    "by-header-value come",
    ctx(None, [match([header("x-canary-user", "beta")])]),
    [stable_ingress(), canary_ingress({**CANARY_ON, f"{NGINX}/canary-weight": "20"})],
    ok(
        [
            annotations_patch(
                {
                    f"{NGINX}/canary-weight": None,
                    f"{NGINX}/canary-by-header": "x-canary-user",
                    f"{NGINX}/canary-by-header-value": "beta",
                }
            )
        ]
    ),
)

route(
    "route-header-regex",
    "nginx, a RegularExpression header match: by-header-pattern replaces by-header-value",
    ctx(None, [match([header("x-canary-user", "^(beta|staff)-.*$", regex=True)])]),
    [
        stable_ingress(),
        canary_ingress(
            {**CANARY_ON, f"{NGINX}/canary-by-header": "x-canary-user", f"{NGINX}/canary-by-header-value": "beta"}
        ),
    ],
    ok(
        [
            annotations_patch(
                {f"{NGINX}/canary-by-header-value": None, f"{NGINX}/canary-by-header-pattern": "^(beta|staff)-.*$"}
            )
        ]
    ),
)

route(
    "route-cookie-and-header",
    "nginx, 20% plus two matches: Kruise's cookie match (header canary-by-cookie naming the "
    "cookie) and a header; nginx routes a request meeting either, as the matches ask",
    ctx(20, [match([header("canary-by-cookie", "shop_canary")]), match([header("x-canary", "always")])]),
    [stable_ingress(), canary_ingress({**CANARY_ON, f"{NGINX}/canary-weight": "20"})],
    ok(
        [
            annotations_patch(
                {
                    f"{NGINX}/canary-by-cookie": "shop_canary",
                    f"{NGINX}/canary-by-header": "x-canary",
                    f"{NGINX}/canary-by-header-value": "always",
                }
            )
        ]
    ),
)

route(
    "route-matches-removed",
    "nginx, the last step at 100% without matches: the match annotations of the previous step go",
    ctx(100),
    [
        stable_ingress(),
        canary_ingress(
            {
                **CANARY_ON,
                f"{NGINX}/canary-weight": "20",
                f"{NGINX}/canary-by-cookie": "shop_canary",
                f"{NGINX}/canary-by-header": "x-canary",
                f"{NGINX}/canary-by-header-value": "always",
            }
        ),
    ],
    ok(
        [
            annotations_patch(
                {
                    f"{NGINX}/canary-weight": "100",
                    f"{NGINX}/canary-by-cookie": None,
                    f"{NGINX}/canary-by-header": None,
                    f"{NGINX}/canary-by-header-value": None,
                }
            )
        ]
    ),
)

route(
    "route-two-header-matches-refused",
    "two matches on different headers: there is one by-header annotation (Kruise keeps the last "
    "and drops the first silently)",
    ctx(None, [match([header("x-canary", "always")]), match([header("x-beta-tester", "yes")])]),
    [stable_ingress(), canary_ingress(CANARY_ON)],
    err("invalid-input", "match 2 routes by a header like an earlier match"),
)

route(
    "route-and-match-refused",
    "one match with a header and a query parameter that must both hold: annotations would route "
    "either (Kruise reads the first header only)",
    ctx(None, [match([header("x-canary", "always")], [header("beta", "1")])], class_type="mse"),
    [stable_ingress(), canary_ingress(CANARY_ON)],
    err("invalid-input", "match 1 has 2 conditions that must all hold"),
)

route(
    "route-path-match-refused",
    "a path condition cannot be stated in canary annotations (Kruise ignores it)",
    ctx(None, [match([header("x-canary", "always")], route_path={"value": "/checkout", "match-type": "Exact"})]),
    [stable_ingress(), canary_ingress(CANARY_ON)],
    err("invalid-input", "match 1 has a path condition (Exact /checkout)"),
)

route(
    "route-query-match-needs-a-class-with-query",
    "nginx has no query-parameter annotation (Kruise ignores the condition)",
    ctx(None, [match(query=[header("beta", "1")])]),
    [stable_ingress(), canary_ingress(CANARY_ON)],
    err("invalid-input", "the Ingress class \"nginx\" cannot route by query: it has no byQuery annotation"),
)

route(
    "route-header-modifier-needs-a-class-with-it",
    "nginx cannot change request headers (Kruise's nginx.lua ignores requestHeaderModifier)",
    ctx(20, modifier=modifier(set_=[("x-env", "canary")])),
    [stable_ingress(), canary_ingress(CANARY_ON)],
    err("invalid-input", "cannot set request headers: it has no requestHeaderSet annotation"),
)

# ---------------------------------------------------------------------------------------------
# aliyun-alb

ALB_USER = {"cert-manager.io/cluster-issuer": "letsencrypt-prod", f"{ALB}/ssl-redirect": "true"}

route(
    "route-alb-creates-canary",
    "aliyun-alb, first step at 10%: the alb.ingress.kubernetes.io keys and the fixed order 1",
    ctx(10, class_type="aliyun-alb"),
    [stable_ingress(class_name="alb", user=ALB_USER)],
    ok(
        [
            apply_canary(
                {f"{ALB}/canary": "true", f"{ALB}/canary-weight": "0", f"{ALB}/order": "1"},
                class_name="alb",
                user=ALB_USER,
            )
        ]
    ),
)

route(
    "route-alb-header",
    "aliyun-alb, a header step after the weight 0 creation: weight goes, by-header comes",
    ctx(None, [match([header("x-canary-user", "beta")])], class_type="aliyun-alb"),
    [
        stable_ingress(class_name="alb", user=ALB_USER),
        canary_ingress(
            {f"{ALB}/canary": "true", f"{ALB}/canary-weight": "0", f"{ALB}/order": "1"},
            class_name="alb",
            user=ALB_USER,
        ),
    ],
    ok(
        [
            annotations_patch(
                {
                    f"{ALB}/canary-weight": None,
                    f"{ALB}/canary-by-header": "x-canary-user",
                    f"{ALB}/canary-by-header-value": "beta",
                }
            )
        ]
    ),
)

# ---------------------------------------------------------------------------------------------
# mse: service subsets, query parameters, request header changes

MSE_CANARY_RULES = [
    {"host": "shop.example.com", "http": {"paths": [path("/", "Prefix", "web", 80), path("/checkout", "Exact", "web", "http")]}},
    {"host": "api.shop.example.com", "http": {"paths": [path("/v2", "ImplementationSpecific", "web", "http")]}},
]

route(
    "route-mse-creates-canary-in-subset",
    "mse with disableGenerateCanaryService (canary Service = stable Service) and a subset-routed "
    "Service: the canary Ingress keeps Service web, its service-subset becomes gray",
    ctx(20, class_type="mse", canary_service="web"),
    [stable_ingress(class_name="mse", annotations={f"{MSE}/service-subset": ""})],
    ok(
        [
            apply_canary(
                {
                    **CANARY_ON,
                    f"{NGINX}/canary-weight": "0",
                    f"{MSE}/service-subset": "gray",
                },
                class_name="mse",
                rules=MSE_CANARY_RULES,
            )
        ]
    ),
)

route(
    "route-mse-query-and-header-changes",
    "mse, a query-parameter step with request header changes: set as name-value lines under "
    "request-header-control-update, remove as a list",
    ctx(
        None,
        [match(query=[header("beta", "true")])],
        modifier=modifier(set_=[("x-env", "canary"), ("x-trace", "on")], remove=["x-debug"]),
        class_type="mse",
        canary_service="web",
    ),
    [
        stable_ingress(class_name="mse", annotations={f"{MSE}/service-subset": ""}),
        canary_ingress(
            {**CANARY_ON, f"{NGINX}/canary-weight": "0", f"{MSE}/service-subset": "gray"},
            class_name="mse",
            rules=MSE_CANARY_RULES,
        ),
    ],
    ok(
        [
            annotations_patch(
                {
                    f"{NGINX}/canary-weight": None,
                    f"{MSE}/canary-by-query": "beta",
                    f"{MSE}/canary-by-query-value": "true",
                    f"{MSE}/request-header-control-update": "x-env canary\nx-trace on",
                    f"{MSE}/request-header-control-remove": "x-debug",
                }
            )
        ]
    ),
)

# ---------------------------------------------------------------------------------------------
# higress, a configured class, class errors

route(
    "route-higress-weight-and-cookie",
    "higress reads the nginx annotations: 30% and a cookie",
    ctx(30, [match([header("canary-by-cookie", "shop_canary")])], class_type="higress"),
    [stable_ingress(class_name="higress"), canary_ingress({**CANARY_ON, f"{NGINX}/canary-weight": "0"}, class_name="higress")],
    ok([annotations_patch({f"{NGINX}/canary-weight": "30", f"{NGINX}/canary-by-cookie": "shop_canary"})]),
)

route(
    "route-higress-with-configured-header-control",
    "the ConfigMap config adds Higress's header-control annotation to the built-in higress class",
    ctx(
        30,
        modifier=modifier(set_=[("x-env", "canary")]),
        class_type="higress",
        classes={"higress": {"requestHeaderSet": "higress.io/request-header-control-update"}},
    ),
    [stable_ingress(class_name="higress"), canary_ingress({**CANARY_ON, f"{NGINX}/canary-weight": "30"}, class_name="higress")],
    ok([annotations_patch({"higress.io/request-header-control-update": "x-env canary"})]),
)

INTERNAL_CLASS = {
    "canary": f"{INTERNAL}/canary",
    "weight": f"{INTERNAL}/canary-weight",
    "byHeader": f"{INTERNAL}/canary-by-header",
    "byHeaderValue": f"{INTERNAL}/canary-by-header-value",
    "byHeaderPattern": f"{INTERNAL}/canary-by-header-pattern",
    "byCookie": f"{INTERNAL}/canary-by-cookie",
}

route(
    "route-custom-class",
    "a class only the ConfigMap config defines: a second ingress-nginx controller started with "
    "--annotations-prefix=internal.nginx.ingress.kubernetes.io",
    ctx(20, class_type="nginx-internal", classes={"nginx-internal": INTERNAL_CLASS}),
    [stable_ingress(class_name="nginx-internal")],
    ok(
        [
            apply_canary(
                {f"{INTERNAL}/canary": "true", f"{INTERNAL}/canary-weight": "0"},
                class_name="nginx-internal",
            )
        ]
    ),
)

route(
    "route-unknown-class",
    "a classType no built-in nor configured class has: the message lists the known ones and how "
    "to add one",
    ctx(20, class_type="traefik"),
    [stable_ingress()],
    err(
        "invalid-input",
        'unknown Ingress classType "traefik"; known classes: aliyun-alb, higress, mse, nginx. Set the '
        "Rollout's trafficRoutings[].ingress.classType to one of them, or define the class in the "
        'ingress plugin\'s ConfigMap config under "classes"',
    ),
)

route(
    "route-invalid-class-definition",
    "a configured class with a misspelt field is refused, naming the field",
    ctx(20, class_type="kong-canary", classes={"kong-canary": {"canary": "konghq.com/canary", "weigth": "konghq.com/weight"}}),
    [stable_ingress()],
    err("invalid-input", 'Ingress class "kong-canary" in the ingress plugin\'s config is not valid: unknown field `weigth`'),
)

# ---------------------------------------------------------------------------------------------
# the stable Ingress

route(
    "route-no-path-to-stable-service",
    "the Rollout's Service is not a backend of the Ingress: a canary Ingress would route nothing",
    ctx(20, stable_service="checkout", canary_service="checkout-canary"),
    [stable_ingress()],
    err("invalid-input", "Ingress shop/web has no path whose backend is Service checkout"),
)

route(
    "route-stable-ingress-missing",
    "the Ingress the Rollout names does not exist",
    ctx(20),
    [],
    err("invalid-input", "Ingress shop/web not found"),
)

route(
    "route-canary-being-deleted",
    "the canary Ingress of the last release still waits for a finalizer: wait until it is gone",
    ctx(20),
    [stable_ingress(), canary_ingress({**CANARY_ON, f"{NGINX}/canary-weight": "100"}, deleting=True)],
    err("not-ready", "Ingress shop/web-canary is being deleted"),
)

# ---------------------------------------------------------------------------------------------
# restore

case(
    "restore-deletes-canary",
    "restore deletes the canary Ingress at once (Kruise's Finalise); the stable Ingress was "
    "never changed",
    "restore",
    {"ctx": ctx(50), "objects": [stable_ingress(), canary_ingress({**CANARY_ON, f"{NGINX}/canary-weight": "50"})]},
    ok([{"delete": target(CANARY)}]),
)

case(
    "restore-done",
    "the canary Ingress is gone: restore is done",
    "restore",
    {"ctx": ctx(50), "objects": [stable_ingress()]},
    ok([]),
)

case(
    "restore-canary-being-deleted",
    "the canary Ingress is already being deleted: nothing more to do (Kruise)",
    "restore",
    {"ctx": ctx(50), "objects": [stable_ingress(), canary_ingress(CANARY_ON, deleting=True)]},
    ok([]),
)

case(
    "restore-with-unknown-class",
    "restore needs no class, so a wrong classType does not keep the canary Ingress around",
    "restore",
    {"ctx": ctx(50, class_type="traefik"), "objects": [canary_ingress(CANARY_ON)]},
    ok([{"delete": target(CANARY)}]),
)


def main():
    write_fixtures(FIXTURES, CASES)


if __name__ == "__main__":
    main()
