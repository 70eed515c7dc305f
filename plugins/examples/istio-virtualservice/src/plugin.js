// The component's entry point: the `traffic` interface of the WIT world
// `waxwing:plugin/traffic-plugin`, built with componentize-js (`jco componentize`).
//
// Each exported function takes the WIT arguments as plain JavaScript values (records are
// objects with camelCase fields, `option` is a value or undefined, variants are
// `{tag, val}`) and returns the `ok` value; throwing an object whose `payload` is a
// `plugin-error` (`{tag: 'invalid-input', val: 'message'}`) returns the `err` side.

import { log } from 'waxwing:plugin/host@0.1.0';

import * as vs from './virtualservice.js';

/** Runs one call: logs what it did, and turns a bug into an `internal` error with its message
 * instead of a trap. */
function call(name, fn) {
  try {
    const { changes, log: line } = fn();
    if (line !== undefined) log('info', line);
    return changes;
  } catch (e) {
    if (e instanceof vs.PluginError) throw e;
    throw new vs.PluginError('internal', `${name} failed: ${e?.message ?? e}`);
  }
}

export const traffic = {
  routeObjects(ctx) {
    return call('route-objects', () => ({ changes: vs.routeObjects(ctx) }));
  },
  route(ctx, objects) {
    return call('route', () => vs.route(ctx, objects));
  },
  restore(ctx, objects) {
    return call('restore', () => vs.restore(ctx, objects));
  },
};
