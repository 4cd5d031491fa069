import type { FunctionFormat } from '../../db/functions-repo.js';
import { UsageError } from '../../base/errors.js';

/**
 * Handler flavours: how the runtime finds and calls a function's entry, per platform the code
 * was written for. Detected at deploy by the runtime's checker from the entry's signature
 * (runtimes/python/faasctl_runtime/flavors.py), or named with `--flavor`; stored in the
 * version's `format` column and passed to every container as FAASCTL_FLAVOR.
 */
export type Flavor = FunctionFormat;

/** Each flavour with the call the runtime makes, as the user knows it from that platform. */
export const FLAVORS: Record<Flavor, string> = {
  main: 'main(args): faasctl / OpenWhisk',
  lambda: 'handler(event, context): AWS Lambda',
  openfaas: 'handle(req): OpenFaaS classic',
  madhat: 'madhat_func(input_data, output_data): the 2016 format',
};

/** `--flavor NAME` → the flavour, or a usage error naming the choices. */
export function parseFlavor(value: string | undefined): Flavor | undefined {
  if (value === undefined) return undefined;
  if (Object.hasOwn(FLAVORS, value)) return value as Flavor;
  throw new UsageError(`unknown flavor "${value}"`, { code: 'bad_flavor', hint: `choose one of ${Object.keys(FLAVORS).join(', ')}` });
}

/** How `fn show` and deploy's line describe a version's entry. */
export function describeEntry(entry: string, flavor: Flavor): string {
  const call = FLAVORS[flavor].split(':')[0] ?? flavor;
  const name = call.slice(0, call.indexOf('('));
  return `${entry}${call.slice(name.length)} (${flavor})`;
}
