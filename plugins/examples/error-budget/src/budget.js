// The error-budget decision, as plain functions of their inputs: no host imports, so Node can
// run this module too. `src/plugin.js` connects it to the component's imports and export.
//
// Settings (the step's merged over the plugin's ConfigMap `config`):
//
//   {"provider": "prometheus", "query": "<PromQL giving an error ratio>", "budget": 0.05}
//
// * provider: the metrics provider to ask, as granted in the plugin ConfigMap
//   (`grants.metrics`); default "prometheus".
// * query: PromQL whose instant value is an error ratio (errors / requests, 0 to 1).
// * budget: the highest acceptable ratio, 0 to 1 (0.05 is 5 %); a number or a numeric string
//   (an AnalysisTemplate's `{{args.budget}}` arrives as a string).
//
// Decision: the ratio above the budget aborts, at or below it proceeds; no samples (or only
// NaN, which is 0/0: no requests) pause for a person.

/** A `plugin-error` thrown as the `err` side of `evaluate`'s result. */
export class PluginError extends Error {
  constructor(tag, message) {
    super(message);
    this.payload = { tag, val: message };
  }
}

const invalid = (message) => new PluginError('invalid-input', message);

const EXAMPLE =
  '{"provider": "prometheus", "query": "sum(rate(http_requests_total{code=~\\"5..\\"}[5m])) / sum(rate(http_requests_total[5m]))", "budget": 0.05}';
const FIELDS = ['provider', 'query', 'budget'];

/** The settings, from the JSON text of `policy-context.config`. */
export function parseSettings(text) {
  if (text.trim() === '') throw invalid(`error-budget has no settings: expected ${EXAMPLE}`);
  let config;
  try {
    config = JSON.parse(text);
  } catch (e) {
    throw invalid(`the settings are not JSON (${e.message}): expected ${EXAMPLE}`);
  }
  if (config === null || typeof config !== 'object' || Array.isArray(config)) {
    throw invalid(`the settings must be a JSON object, like ${EXAMPLE}`);
  }
  for (const key of ['successCondition', 'failureCondition']) {
    if (key in config) {
      throw invalid(
        `${key} is not used: error-budget compares the ratio with \`budget\` itself (above it fails, at or below it succeeds); remove ${key}`,
      );
    }
  }
  const unknown = Object.keys(config).filter((k) => !FIELDS.includes(k));
  if (unknown.length > 0) {
    throw invalid(
      `unknown setting ${unknown.map((k) => JSON.stringify(k)).join(', ')}: error-budget takes provider, query and budget`,
    );
  }
  const provider = config.provider ?? 'prometheus';
  if (typeof provider !== 'string' || provider === '') {
    throw invalid(`provider must be the name of a metrics provider, got ${JSON.stringify(provider)}`);
  }
  const { query } = config;
  if (typeof query !== 'string' || query.trim() === '') {
    throw invalid(`query must be PromQL giving an error ratio, got ${JSON.stringify(query ?? null)}: expected ${EXAMPLE}`);
  }
  return { provider, query, budget: parseBudget(config.budget) };
}

function parseBudget(value) {
  const bad = () =>
    invalid(`budget must be an error ratio between 0 and 1 (0.05 is 5 %), got ${JSON.stringify(value ?? null)}`);
  let number;
  if (typeof value === 'number') {
    number = value;
  } else if (typeof value === 'string' && /^\s*[0-9]*\.?[0-9]+(?:[eE][-+]?[0-9]+)?\s*$/.test(value)) {
    number = Number(value);
  } else {
    throw bad();
  }
  if (!Number.isFinite(number) || number < 0 || number > 1) throw bad();
  return { value: number, text: typeof value === 'string' ? value.trim() : String(value) };
}

/**
 * The samples of a Prometheus `data` object (`{"resultType":"vector","result":[...]}` or a
 * scalar), as `{value, text, labels}`, NaN samples left out. Throws when the answer is not one.
 */
export function samples(answer, settings) {
  const where = `the answer of ${settings.provider} to ${settings.query}`;
  let data;
  try {
    data = JSON.parse(answer);
  } catch (e) {
    throw new PluginError('host-failure', `${where} is not JSON: ${e.message}`);
  }
  const sample = (pair, labels) => {
    if (!Array.isArray(pair) || pair.length !== 2 || typeof pair[1] !== 'string') {
      throw new PluginError('host-failure', `${where} has a malformed sample ${JSON.stringify(pair)}`);
    }
    return { value: Number(pair[1]), text: pair[1], labels: labels ?? {} };
  };
  let all;
  switch (data?.resultType) {
    case 'vector':
      if (!Array.isArray(data.result)) {
        throw new PluginError('host-failure', `${where} is a vector without a result list`);
      }
      all = data.result.map((series) => sample(series?.value, series?.metric));
      break;
    case 'scalar':
      all = [sample(data.result)];
      break;
    default:
      throw invalid(
        `${where} is a ${JSON.stringify(data?.resultType ?? null)}, not a number: the query must give an instant vector or a scalar`,
      );
  }
  return all.filter((s) => !Number.isNaN(s.value));
}

/** `{job="web", code="500"}`, or empty for no labels. */
function labelText(labels) {
  const pairs = Object.entries(labels)
    .filter(([name]) => name !== '__name__')
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([name, value]) => `${name}=${JSON.stringify(value)}`);
  return pairs.length === 0 ? '' : `{${pairs.join(', ')}}`;
}

/**
 * The decision for the samples: `{tag: 'proceed'}`, `{tag: 'pause', val}` or
 * `{tag: 'abort', val}`, and a line for the log with the measured value.
 */
export function decide(settings, found) {
  const { query, budget } = settings;
  if (found.length === 0) {
    return {
      decision: {
        tag: 'pause',
        val: `no samples for ${query} (no series, or no requests to divide by); approve to go on`,
      },
      log: `error-budget: no samples for ${query}`,
    };
  }
  // Several series (one per pod, per route...): the worst one decides.
  const worst = found.reduce((a, b) => (b.value > a.value ? b : a));
  const of = found.length > 1 ? ` (the highest of ${found.length} series: ${labelText(worst.labels) || 'no labels'})` : '';
  const measured = `error ratio ${worst.text}${of}`;
  if (worst.value > budget.value) {
    return {
      decision: { tag: 'abort', val: `error budget exhausted: ${measured} is over the budget ${budget.text}` },
      log: `error-budget: ${measured} is over the budget ${budget.text}`,
    };
  }
  return {
    decision: { tag: 'proceed' },
    log: `error-budget: ${measured} is within the budget ${budget.text}`,
  };
}
