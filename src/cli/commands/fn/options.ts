import type { PlacementFlags } from '../../../core/functions/placement.js';

/** The parsed flags of the fn commands: their own file, so index.ts (registration) and the run files never import each other. */

export interface LimitOptions {
  memory?: string;
  cpus?: string;
  timeout?: string;
  env?: string[];
  /** `--env-file F` (repeatable): KEY=VALUE lines read before --env. */
  envFile?: string[];
  /** Secret names: mounted as /run/secrets/NAME (`-NAME` removes one on update). */
  secret?: string[];
  entry?: string;
  /** `--flavor main|lambda|openfaas|madhat`: how the entry is called (default: from its signature). */
  flavor?: string;
  /** `--apt NAME` (repeatable): Debian packages for the function's image. */
  apt?: string[];
  /** `--no-import-check`: false. */
  importCheck?: boolean;
  /** requirements.txt to install into the function's image (a directory's own is found by itself). */
  requirements?: string;
  pipIndexUrl?: string;
  /** Swarm placement, passed through (`fn deploy|update` only). */
  constraint?: string[];
  placementPref?: string[];
  /** false with --no-placement (commander's negation). */
  placement?: boolean;
}

export interface DeployOptions extends LimitOptions, PolicyOptions {
  name?: string;
  warm?: string;
  workers?: string;
}

export interface InvokeOptions {
  data?: string;
  dataFile?: string;
  async?: boolean;
  cold?: boolean;
  bulk?: string;
  concurrency?: string;
  idempotencyKey?: string;
  /** With --bulk: continue a run (its id), or true: the newest run of this function over the same file. */
  resume?: string | true;
  /** commander's negation of --no-queue: false when given. */
  queue?: boolean;
  /** pool | service: how this call runs (issue 23); absent: the function's default. */
  isolation?: string;
}

export interface BulkDeployOptions extends DeployOptions {
  /** Create this many functions, PREFIX1..PREFIXN. */
  bulk?: string;
  prefix?: string;
}

export interface BulkUpdateOptions extends LimitOptions, PolicyOptions {
  /** Update every function whose name starts with this; the argument is then the FILE. */
  prefix?: string;
}

export interface FnDeleteOptions {
  prefix?: string;
  yes?: boolean;
  /** Stop running invocations instead of refusing. */
  force?: boolean;
}

/** `fn new NAME [--dir D]` */
export interface FnNewOptions {
  dir?: string;
}

/** `fn run FILE`: deploy's limits and env, invoke's input flags. */
export interface FnRunOptions extends LimitOptions {
  data?: string;
  dataFile?: string;
}

export function placementFlags(opts: LimitOptions): PlacementFlags {
  return { constraint: opts.constraint, placementPref: opts.placementPref, noPlacement: opts.placement === false };
}

export interface PolicyOptions {
  /** fn deploy / fn update: auto | pool | service (issue 23). */
  isolation?: string;
  retries?: string;
  /** --retry-on-error / --no-retry-on-error */
  retryOnError?: boolean;
  maxEventAge?: string;
  maxConcurrency?: string;
}

/** `fn update --webhook-secret-stdin` / `--no-webhook` (issue 25). */
export interface WebhookFlags {
  webhookSecretStdin?: boolean;
  /** false with --no-webhook. */
  webhook?: boolean;
}
