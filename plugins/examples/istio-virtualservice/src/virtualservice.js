// How a Rollout's traffic step changes an Istio VirtualService, as plain functions of their
// inputs: no host imports here, so this module also runs under Node (see src/plugin.js for the
// component's entry points).
//
// The behaviour follows Kruise Rollout's Lua script for VirtualServices
// (lua_configuration/networking.istio.io/VirtualService/trafficRouting.lua) and its custom
// network provider, with the differences listed in README.md.

/** Where the VirtualService's spec before the rollout is kept; the same annotation and format
 * (`{"spec":…,"labels":…,"annotations":…}`) as Kruise's custom network provider, so a rollout
 * started by either controller is restored by the other. */
export const ORIGINAL_SPEC = 'rollouts.kruise.io/original-spec-configuration';

const GROUP = 'networking.istio.io';
const VERSIONS = ['v1', 'v1beta1', 'v1alpha3'];
const KIND = 'VirtualService';

/** A failed call: `tag` is a case of the WIT `plugin-error` variant. componentize-js turns a
 * thrown value's `payload` into the `err` side of the function's result. */
export class PluginError extends Error {
  constructor(tag, message) {
    super(message);
    this.payload = { tag, val: message };
  }
}

const invalid = (message) => new PluginError('invalid-input', message);

// ---------------------------------------------------------------------------------------------
// Settings and context

/**
 * The route's settings: the plugin's ConfigMap `config` with the Rollout's `customNetworkRefs`
 * entry merged over it.
 */
export function readSettings(ctx) {
  let config;
  try {
    config = JSON.parse(ctx.config);
  } catch (e) {
    throw invalid(`the route's settings are not JSON: ${e.message}`);
  }
  if (!isObject(config)) {
    throw invalid(`the route's settings must be a JSON object, not ${JSON.stringify(config)}`);
  }
  const { apiVersion, kind, name } = config;
  if (kind !== KIND) {
    throw invalid(
      `this plugin routes Istio VirtualServices; the customNetworkRefs entry names a ` +
        `${JSON.stringify(kind ?? null)} (kind must be VirtualService)`,
    );
  }
  const [group, version, extra] = String(apiVersion ?? '').split('/');
  if (group !== GROUP || !VERSIONS.includes(version) || extra !== undefined) {
    throw invalid(
      `the customNetworkRefs entry has apiVersion ${JSON.stringify(apiVersion ?? null)}; a ` +
        `VirtualService is ${VERSIONS.map((v) => `${GROUP}/${v}`).join(', ')}`,
    );
  }
  if (typeof name !== 'string' || name === '') {
    throw invalid('the customNetworkRefs entry for the VirtualService has no name');
  }
  const canarySubset = config.canarySubset ?? 'canary';
  if (typeof canarySubset !== 'string' || canarySubset === '') {
    throw invalid(`canarySubset must be a non-empty string, not ${JSON.stringify(canarySubset)}`);
  }
  if (!ctx.stableService || !ctx.canaryService) {
    throw invalid('the Rollout names no stable or canary Service for this route');
  }
  if (ctx.weight !== undefined && ctx.weight > 100) {
    throw invalid(`the step's traffic weight is ${ctx.weight}%, more than 100%`);
  }
  return { apiVersion, name, namespace: ctx.rollout.namespace, canarySubset };
}

export function routeObjects(ctx) {
  const s = readSettings(ctx);
  return [{ apiVersion: s.apiVersion, kind: KIND, namespace: s.namespace, name: s.name }];
}

/** The VirtualService among the objects the host read, or undefined when it does not exist. */
function findVirtualService(objects, s) {
  for (const text of objects) {
    let object;
    try {
      object = JSON.parse(text);
    } catch (e) {
      throw invalid(`an object passed to the plugin is not JSON: ${e.message}`);
    }
    if (object?.kind === KIND && object?.metadata?.name === s.name) {
      if (object.spec !== undefined && !isObject(object.spec)) {
        throw invalid(`VirtualService ${s.namespace}/${s.name} has a spec that is not an object`);
      }
      return object;
    }
  }
  return undefined;
}

/** The spec before the rollout: from the annotation when it was recorded, else the current one. */
function originalSpec(vs, s) {
  const text = vs.metadata?.annotations?.[ORIGINAL_SPEC];
  if (text === undefined) {
    return { recorded: false, spec: vs.spec ?? {} };
  }
  let data;
  try {
    data = JSON.parse(text);
  } catch {
    data = undefined;
  }
  if (!isObject(data) || (data.spec !== undefined && !isObject(data.spec))) {
    throw invalid(
      `VirtualService ${s.namespace}/${s.name} has an annotation ${ORIGINAL_SPEC} that is not ` +
        `{"spec": {...}} JSON, so its spec before the rollout is unknown: put the spec back by ` +
        `hand and remove the annotation`,
    );
  }
  return { recorded: true, spec: data.spec ?? {} };
}

/** What the annotation records, in Kruise's format: the spec, labels and other annotations. */
function record(vs) {
  const data = { spec: vs.spec ?? {} };
  const labels = vs.metadata?.labels ?? {};
  const annotations = { ...(vs.metadata?.annotations ?? {}) };
  delete annotations[ORIGINAL_SPEC];
  if (Object.keys(labels).length > 0) data.labels = labels;
  if (Object.keys(annotations).length > 0) data.annotations = annotations;
  return JSON.stringify(data);
}

// ---------------------------------------------------------------------------------------------
// The traffic functions

/** The changes that make the VirtualService route this step, and a log line when there are some. */
export function route(ctx, objects) {
  const s = readSettings(ctx);
  const vs = findVirtualService(objects, s);
  if (vs === undefined) {
    throw new PluginError(
      'not-ready',
      `VirtualService ${s.namespace}/${s.name} does not exist; create it, or fix the name in ` +
        `the Rollout's customNetworkRefs`,
    );
  }
  const original = originalSpec(vs, s);
  const desired = routedSpec(original.spec, ctx, s);
  const specPatch = mergePatch(vs.spec ?? {}, desired);
  if (specPatch === undefined) {
    return { changes: [] };
  }
  const body = { metadata: {} };
  if (!original.recorded) {
    body.metadata.annotations = { [ORIGINAL_SPEC]: record(vs) };
  }
  body.spec = specPatch;
  return {
    changes: [patch(vs, s, body)],
    log: original.recorded
      ? undefined
      : `recorded the spec of VirtualService ${s.namespace}/${s.name} in ${ORIGINAL_SPEC}`,
  };
}

/** The changes that put the VirtualService's original spec back and drop the annotation. */
export function restore(ctx, objects) {
  const s = readSettings(ctx);
  const vs = findVirtualService(objects, s);
  if (vs === undefined || vs.metadata?.annotations?.[ORIGINAL_SPEC] === undefined) {
    return { changes: [] };
  }
  const original = originalSpec(vs, s);
  const body = { metadata: { annotations: { [ORIGINAL_SPEC]: null } } };
  const specPatch = mergePatch(vs.spec ?? {}, original.spec);
  if (specPatch !== undefined) body.spec = specPatch;
  return {
    changes: [patch(vs, s, body)],
    log: `restored the spec of VirtualService ${s.namespace}/${s.name} from ${ORIGINAL_SPEC}`,
  };
}

/** A merge patch of the VirtualService; its resourceVersion makes the API server refuse it
 * (409, retried by the host) when the object changed since the host read it. */
function patch(vs, s, body) {
  if (vs.metadata?.resourceVersion) body.metadata.resourceVersion = vs.metadata.resourceVersion;
  if (Object.keys(body.metadata).length === 0) delete body.metadata;
  return {
    tag: 'merge-patch',
    val: {
      target: {
        apiVersion: vs.apiVersion ?? s.apiVersion,
        kind: KIND,
        namespace: s.namespace,
        name: s.name,
      },
      body: JSON.stringify(body),
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Routing, always computed from the original spec

/** The spec for this step: matches when the step has any (its weight is then not used, as in
 * Kruise), else the weight, else the original. */
export function routedSpec(original, ctx, s) {
  const spec = clone(original);
  if (ctx.matches.length > 0) {
    routeMatches(spec, ctx, s);
  } else if (ctx.weight !== undefined) {
    routeWeight(spec, ctx, s);
  }
  return spec;
}

/** Whether a destination host names the stable Service: `web`, `web.shop`, `web.shop.svc` or
 * `web.shop.svc.<cluster domain>` for Service web in the Rollout's namespace shop. */
function isStable(destination, ctx, s) {
  const host = destination?.host;
  if (typeof host !== 'string') return false;
  const service = ctx.stableService;
  const inNamespace = `${service}.${s.namespace}`;
  return (
    host === service ||
    host === inNamespace ||
    host === `${inNamespace}.svc` ||
    host.startsWith(`${inNamespace}.svc.`)
  );
}

/** The canary's destination beside a stable one: the canary Service on the same port, or, when
 * the Rollout has no canary Service (canary = stable), the stable host's canary subset. */
function canaryDestination(stable, ctx, s) {
  const destination =
    ctx.canaryService === ctx.stableService
      ? { host: stable.destination.host, subset: s.canarySubset }
      : { host: ctx.canaryService };
  if (stable.destination.port !== undefined) destination.port = clone(stable.destination.port);
  const routeDestination = { destination };
  if (stable.headers !== undefined) routeDestination.headers = clone(stable.headers);
  return routeDestination;
}

function stableRoutes(spec, protocols, ctx, s) {
  const found = [];
  for (const protocol of protocols) {
    for (const [index, rule] of (spec[protocol] ?? []).entries()) {
      const destinations = Array.isArray(rule?.route) ? rule.route : [];
      const stable = destinations.findIndex((d) => isStable(d?.destination, ctx, s));
      if (stable >= 0) found.push({ protocol, index, rule, stable });
    }
  }
  return found;
}

function noStableRoute(spec, protocols, ctx, s) {
  const hosts = new Set();
  for (const protocol of protocols) {
    for (const rule of spec[protocol] ?? []) {
      for (const d of rule?.route ?? []) {
        if (typeof d?.destination?.host === 'string') hosts.add(d.destination.host);
      }
    }
  }
  const seen =
    hosts.size > 0 ? `its routes go to ${[...hosts].join(', ')}` : 'it has no such routes';
  const kinds =
    protocols.length > 1
      ? `${protocols.slice(0, -1).join(', ')} or ${protocols[protocols.length - 1]}`
      : protocols[0];
  return invalid(
    `VirtualService ${s.namespace}/${s.name} has no ${kinds} route whose ` +
      `destination is the stable Service ${ctx.stableService} (${seen}); check the Rollout's ` +
      `service and the VirtualService`,
  );
}

/**
 * Every http, tcp and tls rule with a destination on the stable Service keeps (100 - w)% of its
 * traffic, shared among its destinations as before, and sends w% to the canary.
 */
function routeWeight(spec, ctx, s) {
  const protocols = ['http', 'tcp', 'tls'];
  const rules = stableRoutes(spec, protocols, ctx, s);
  if (rules.length === 0) throw noStableRoute(spec, protocols, ctx, s);
  const w = ctx.weight;
  for (const { rule, stable } of rules) {
    const destinations = rule.route;
    // A destination without a weight gets an equal share, as in Kruise's script; the shares are
    // scaled to 100 - w and the rounding remainder goes to the stable destination, so the
    // rule's weights add up to exactly 100.
    const shares = destinations.map((d) =>
      typeof d.weight === 'number' ? d.weight : 100 / destinations.length,
    );
    const total = shares.reduce((a, b) => a + b, 0);
    const scaled = shares.map((share) =>
      total > 0 ? Math.floor((share * (100 - w)) / total) : 0,
    );
    scaled[stable] += 100 - w - scaled.reduce((a, b) => a + b, 0);
    const canary = canaryDestination(destinations[stable], ctx, s);
    rule.route = destinations.map((d, i) => ({ ...d, weight: scaled[i] }));
    rule.route.push({ ...canary, weight: w });
  }
}

/**
 * Before every http rule with a destination on the stable Service, a copy of it that sends the
 * requests it would take and that match any of the step's matches to the canary, with the
 * step's request header changes.
 */
function routeMatches(spec, ctx, s) {
  const rules = stableRoutes(spec, ['http'], ctx, s);
  if (rules.length === 0) throw noStableRoute(spec, ['http'], ctx, s);
  const stepMatches = ctx.matches.map(istioMatch);
  const canaryRules = new Map();
  for (const { index, rule, stable } of rules) {
    const match = combineMatches(rule, index, stepMatches);
    if (match.length === 0) continue;
    const canary = clone(rule);
    if (typeof rule.name === 'string' && rule.name !== '') canary.name = `${rule.name}-canary`;
    canary.match = match;
    canary.route = [canaryDestination(rule.route[stable], ctx, s)];
    if (ctx.requestHeaderModifier !== undefined) {
      canary.headers = withRequestHeaders(canary.headers, ctx.requestHeaderModifier);
    }
    canaryRules.set(index, canary);
  }
  if (canaryRules.size === 0) {
    throw invalid(
      `no request that VirtualService ${s.namespace}/${s.name} sends to ${ctx.stableService} ` +
        `can match the step's matches (they contradict the own match of every route to it), ` +
        `so no traffic would reach the canary`,
    );
  }
  spec.http = spec.http.flatMap((rule, i) =>
    canaryRules.has(i) ? [canaryRules.get(i), rule] : [rule],
  );
}

const PATH_TYPES = { Exact: 'exact', PathPrefix: 'prefix', RegularExpression: 'regex' };
const HEADER_TYPES = { Exact: 'exact', RegularExpression: 'regex', Prefix: 'prefix' };
const QUERY_TYPES = { Exact: 'exact', RegularExpression: 'regex' };

function stringMatch(types, what, matchType, value) {
  const key = types[matchType];
  if (key === undefined) {
    throw invalid(
      `${what} match type ${JSON.stringify(matchType)} is not supported for a VirtualService ` +
        `(use ${Object.keys(types).join(' or ')})`,
    );
  }
  return { [key]: value };
}

/** A step's route-match as an Istio HTTPMatchRequest. Header names are lowercased, as Istio
 * requires. */
function istioMatch(match) {
  const out = {};
  if (match.path !== undefined) {
    out.uri = stringMatch(PATH_TYPES, 'path', match.path.matchType, match.path.value);
  }
  if (match.headers.length > 0) {
    out.headers = {};
    for (const h of match.headers) {
      const name = h.name.toLowerCase();
      const m = stringMatch(HEADER_TYPES, `header ${h.name}`, h.matchType, h.value);
      if (out.headers[name] !== undefined && !deepEqual(out.headers[name], m)) {
        throw invalid(`a step match tests the header ${name} twice with different values`);
      }
      out.headers[name] = m;
    }
  }
  if (match.queryParams.length > 0) {
    out.queryParams = {};
    for (const q of match.queryParams) {
      const m = stringMatch(QUERY_TYPES, `query parameter ${q.name}`, q.matchType, q.value);
      if (out.queryParams[q.name] !== undefined && !deepEqual(out.queryParams[q.name], m)) {
        throw invalid(
          `a step match tests the query parameter ${q.name} twice with different values`,
        );
      }
      out.queryParams[q.name] = m;
    }
  }
  return out;
}

/** The rule's own matches (any of them) AND the step's (any of them), as one list of Istio
 * matches, leaving out combinations no request can satisfy. */
function combineMatches(rule, index, stepMatches) {
  const own = Array.isArray(rule.match) && rule.match.length > 0 ? rule.match : [{}];
  const named = typeof rule.name === 'string' && rule.name !== '';
  const label = named ? `"${rule.name}"` : `#${index + 1}`;
  const combined = [];
  for (const mine of own) {
    for (const step of stepMatches) {
      const both = intersectMatch(mine, step, label);
      if (both !== undefined) combined.push(both);
    }
  }
  return combined;
}

/** One Istio match that holds when both hold, or undefined when none can. */
function intersectMatch(mine, step, label) {
  const out = clone(mine);
  if (step.uri !== undefined) {
    if (mine.uri === undefined) {
      out.uri = step.uri;
    } else {
      const uri = intersectString(mine.uri, step.uri, () => `the uri of http route ${label}`);
      if (uri === undefined) return undefined;
      out.uri = uri;
    }
  }
  for (const field of ['headers', 'queryParams']) {
    if (step[field] === undefined) continue;
    out[field] = { ...(mine[field] ?? {}) };
    const kind = field === 'headers' ? 'header' : 'query parameter';
    for (const [name, m] of Object.entries(step[field])) {
      const where = () => `the ${kind} ${name} of http route ${label}`;
      const both = out[field][name] === undefined ? m : intersectString(out[field][name], m, where);
      if (both === undefined) return undefined;
      out[field][name] = both;
    }
  }
  return out;
}

/**
 * Two Istio StringMatches that must both hold, as one; undefined when no string satisfies both.
 * Regular expressions cannot be combined with anything but themselves: that is an error.
 */
function intersectString(a, b, where) {
  if (deepEqual(a, b)) return clone(a);
  if (Object.keys(a).length === 0) return clone(b); // an empty header match: presence only
  if (Object.keys(b).length === 0) return clone(a);
  const exact = (m) => (typeof m.exact === 'string' ? m.exact : undefined);
  const prefix = (m) => (typeof m.prefix === 'string' ? m.prefix : undefined);
  if (exact(a) !== undefined && exact(b) !== undefined) return undefined;
  if (exact(a) !== undefined && prefix(b) !== undefined) {
    return exact(a).startsWith(prefix(b)) ? clone(a) : undefined;
  }
  if (prefix(a) !== undefined && exact(b) !== undefined) {
    return exact(b).startsWith(prefix(a)) ? clone(b) : undefined;
  }
  if (prefix(a) !== undefined && prefix(b) !== undefined) {
    if (prefix(a).startsWith(prefix(b))) return clone(a);
    if (prefix(b).startsWith(prefix(a))) return clone(b);
    return undefined;
  }
  throw invalid(
    `the step's match ${JSON.stringify(b)} cannot be combined with ${where()}, ` +
      `${JSON.stringify(a)}: an Istio match holds one condition per field, and a regular ` +
      `expression cannot be merged with another condition`,
  );
}

/** A rule's `headers` with the step's request header changes (set, add, remove) merged in. */
function withRequestHeaders(headers, modifier) {
  const out = clone(headers ?? {});
  const request = out.request ?? {};
  for (const action of ['set', 'add']) {
    if (modifier[action].length === 0) continue;
    request[action] = { ...(request[action] ?? {}) };
    for (const [name, value] of modifier[action]) request[action][name] = value;
  }
  if (modifier.remove.length > 0) {
    const remove = [...(request.remove ?? [])];
    for (const name of modifier.remove) if (!remove.includes(name)) remove.push(name);
    request.remove = remove;
  }
  if (Object.keys(request).length > 0) out.request = request;
  return out;
}

// ---------------------------------------------------------------------------------------------
// JSON helpers

function isObject(value) {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function clone(value) {
  return value === undefined ? undefined : JSON.parse(JSON.stringify(value));
}

export function deepEqual(a, b) {
  if (a === b) return true;
  if (Array.isArray(a) || Array.isArray(b)) {
    return (
      Array.isArray(a) &&
      Array.isArray(b) &&
      a.length === b.length &&
      a.every((x, i) => deepEqual(x, b[i]))
    );
  }
  if (isObject(a) && isObject(b)) {
    const keys = Object.keys(a);
    return (
      keys.length === Object.keys(b).length &&
      keys.every((k) => Object.prototype.hasOwnProperty.call(b, k) && deepEqual(a[k], b[k]))
    );
  }
  return false;
}

/** The JSON merge patch (RFC 7386) that turns `current` into `desired`; undefined when they are
 * equal. Arrays are replaced whole; keys missing from `desired` are set to null. */
export function mergePatch(current, desired) {
  if (deepEqual(current, desired)) return undefined;
  if (!isObject(current) || !isObject(desired)) return clone(desired);
  const out = {};
  for (const key of Object.keys(current)) {
    if (!Object.prototype.hasOwnProperty.call(desired, key)) out[key] = null;
  }
  for (const [key, value] of Object.entries(desired)) {
    const change = Object.prototype.hasOwnProperty.call(current, key)
      ? mergePatch(current[key], value)
      : clone(value);
    if (change !== undefined) out[key] = change;
  }
  return out;
}
