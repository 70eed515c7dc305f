// The component's entry point: the `policy` interface of the WIT world
// `waxwing:plugin/policy-plugin`, built with componentize-js (`jco componentize`).
//
// `evaluate` takes the WIT record as a plain object with camelCase fields and returns the
// `ok` value, a variant as `{tag, val}`; throwing an object whose `payload` is a
// `plugin-error` returns the `err` side. An import that returns a `result` gives its `ok`
// value, and throws on `err` (the error string is the thrown value's `payload`).

import { log } from 'waxwing:plugin/host@0.1.0';
import { query } from 'waxwing:plugin/metrics@0.1.0';

import { PluginError, decide, parseSettings, samples } from './budget.js';

/** The host's error message for a failed import call. */
function hostMessage(e) {
  return typeof e?.payload === 'string' ? e.payload : String(e?.message ?? e);
}

export const policy = {
  evaluate(ctx) {
    try {
      const settings = parseSettings(ctx.config);
      let answer;
      try {
        answer = query(settings.provider, { query: settings.query, range: undefined });
      } catch (e) {
        throw new PluginError(
          'host-failure',
          `querying ${settings.provider} for ${settings.query} failed: ${hostMessage(e)}`,
        );
      }
      const { decision, log: line } = decide(settings, samples(answer, settings));
      log('debug', line);
      return decision;
    } catch (e) {
      if (e instanceof PluginError) throw e;
      throw new PluginError('internal', `error-budget failed: ${e?.message ?? e}`);
    }
  },
};
