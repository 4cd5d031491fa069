import { UsageError } from '../../base/errors.js';
import { NO_PLACEMENT, type Placement } from '../../base/placement.js';

/** Parsing, comparing and describing the placement flags of a version (the value type is in base/). */

const MAX_RULES = 16;

const ATTRIBUTE = /^(?:node\.(?:id|hostname|role|platform\.os|platform\.arch|labels\.[A-Za-z0-9_.-]+)|engine\.labels\.[A-Za-z0-9_.-]+)$/;
const SPREADABLE = /^(?:node\.(?:id|hostname|role|platform\.os|platform\.arch|labels\.[A-Za-z0-9_.-]+)|engine\.labels\.[A-Za-z0-9_.-]+)$/;

/** `node.role==worker`, `node.labels.zone != b`: an attribute, == or !=, a value. */
export function parseConstraint(raw: string): string {
  const m = /^\s*([^\s=!]+)\s*(==|!=)\s*([^\s=!]+)\s*$/.exec(raw);
  if (!m || !ATTRIBUTE.test(m[1]!)) {
    throw new UsageError(`invalid --constraint "${raw}"`, {
      code: 'invalid_constraint',
      hint: 'ATTRIBUTE==VALUE or ATTRIBUTE!=VALUE, where ATTRIBUTE is node.id, node.hostname, node.role, node.platform.os, node.platform.arch, node.labels.KEY or engine.labels.KEY',
    });
  }
  return `${m[1]}${m[2]}${m[3]}`;
}

/** `spread=node.labels.zone`, as docker service create --placement-pref takes it. */
export function parseSpread(raw: string): string {
  const m = /^\s*spread\s*=\s*(\S+)\s*$/.exec(raw);
  if (!m || !SPREADABLE.test(m[1]!)) {
    throw new UsageError(`invalid --placement-pref "${raw}"`, { code: 'invalid_placement', hint: 'spread=node.labels.KEY (or another node attribute): tasks spread evenly over its values' });
  }
  return m[1]!;
}

/** `--constraint`, `--placement-pref`, `--no-placement` as given. */
export interface PlacementFlags {
  constraint?: string[];
  placementPref?: string[];
  noPlacement?: boolean;
}

/** Flags into a placement; undefined when no flag was given (an update keeps the current one). */
export function parsePlacement(flags: PlacementFlags): Placement | undefined {
  const constraints = (flags.constraint ?? []).map(parseConstraint);
  const spread = (flags.placementPref ?? []).map(parseSpread);
  if (flags.noPlacement) {
    if (constraints.length || spread.length)
      throw new UsageError('--no-placement cannot be combined with --constraint or --placement-pref', { code: 'invalid_placement', hint: 'give either the new rules or --no-placement' });
    return NO_PLACEMENT;
  }
  if (!constraints.length && !spread.length) return undefined;
  if (constraints.length + spread.length > MAX_RULES) throw new UsageError(`at most ${MAX_RULES} placement rules`, { code: 'invalid_placement' });
  return { constraints: [...new Set(constraints)], spread: [...new Set(spread)] };
}

export function samePlacement(a: Placement, b: Placement | undefined): boolean {
  const key = (p: Placement | undefined) => JSON.stringify([[...(p?.constraints ?? [])].sort(), [...(p?.spread ?? [])]]);
  return key(a) === key(b);
}

/** The Swarm `Placement` object, or nothing when there are no rules. */
export function swarmPlacement(p: Placement | undefined): { Constraints?: string[]; Preferences?: Array<{ Spread: { SpreadDescriptor: string } }> } | undefined {
  if (!p || (!p.constraints.length && !p.spread.length)) return undefined;
  return {
    ...(p.constraints.length ? { Constraints: p.constraints } : {}),
    ...(p.spread.length ? { Preferences: p.spread.map((d) => ({ Spread: { SpreadDescriptor: d } })) } : {}),
  };
}

export function describePlacement(p: Placement | undefined): string {
  if (!p || (!p.constraints.length && !p.spread.length)) return 'any node';
  return [...p.constraints, ...p.spread.map((d) => `spread=${d}`)].join(', ');
}
