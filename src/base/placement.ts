/**
 * Where a function's tasks may run: Swarm placement constraints and spread preferences,
 * passed through as Swarm spells them (`docker service create --constraint / --placement-pref`).
 */
export interface Placement {
  constraints: string[];
  /** Spread descriptors, e.g. `node.labels.zone`: tasks spread evenly over its values. */
  spread: string[];
}

export const NO_PLACEMENT: Placement = { constraints: [], spread: [] };
