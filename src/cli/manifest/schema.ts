import type * as Zod from 'zod';
import { MAX_RETRIES } from '../../core/functions/dispatch-policy.js';

/**
 * The functions file's shape, checked by zod before any value is used; what zod cannot say
 * (a memory size, a name, a constraint) the same parsers as the flags check, at the value's line.
 */
export function manifestSchema(z: typeof Zod) {
  const scalar = z.union([z.string(), z.number(), z.boolean()]);
  const fn = z
    .strictObject({
      code: z.string().min(1).optional(),
      source: z.string().optional(),
      entry: z.string().min(1).optional(),
      flavor: z.enum(['main', 'lambda', 'openfaas', 'madhat']).optional(),
      memory: z.union([z.string(), z.number()]).optional(),
      cpus: z.union([z.string(), z.number()]).optional(),
      timeout: z.string().optional(),
      env: z.record(z.string(), scalar).optional(),
      envFiles: z.array(z.string().min(1)).optional(),
      secrets: z.array(z.string()).optional(),
      requirements: z.string().min(1).optional(),
      requirementsText: z.string().optional(),
      pipIndexUrl: z.string().min(1).optional(),
      warm: z.strictObject({ replicas: z.int().min(0), workers: z.int().min(1).optional() }).optional(),
      placement: z.strictObject({ constraints: z.array(z.string()).optional(), spread: z.array(z.string()).optional() }).optional(),
      apt: z.array(z.string()).optional(),
      // The dispatcher's policy (fn policy): left out, the platform default.
      retries: z.int().min(0).max(MAX_RETRIES).optional(),
      retryOnError: z.boolean().optional(),
      maxEventAge: z.string().optional(),
      maxConcurrency: z.int().min(1).optional(),
    })
    .superRefine((f, ctx) => {
      if ((f.code === undefined) === (f.source === undefined)) ctx.addIssue({ code: 'custom', message: 'give exactly one of code (a path) or source (the code itself)', path: [] });
      if (f.requirements !== undefined && f.requirementsText !== undefined)
        ctx.addIssue({ code: 'custom', message: 'give requirements (a path) or requirementsText, not both', path: ['requirementsText'] });
    });
  const schedule = z
    .strictObject({
      function: z.string().min(1),
      cron: z.string().min(1).optional(),
      every: z.string().min(1).optional(),
      at: z.string().min(1).optional(),
      tz: z.string().min(1).optional(),
      // Any JSON value: the input each run gets.
      data: z.unknown().optional(),
      start: z.string().min(1).optional(),
      end: z.string().min(1).optional(),
      overlap: z.enum(['skip', 'queue', 'allow']).optional(),
      catchUp: z.enum(['none', 'last', 'all']).optional(),
      paused: z.boolean().optional(),
    })
    .superRefine((s, ctx) => {
      if ([s.cron, s.every, s.at].filter((v) => v !== undefined).length !== 1) ctx.addIssue({ code: 'custom', message: 'give exactly one of cron, every or at', path: [] });
    });
  return z.strictObject({
    version: z.literal(1).optional(),
    functions: z.record(z.string(), fn),
    schedules: z.record(z.string(), schedule).optional(),
  });
}

export type Manifest = Zod.infer<ReturnType<typeof manifestSchema>>;
export type ManifestFunction = Manifest['functions'][string];
export type ManifestSchedule = NonNullable<Manifest['schedules']>[string];
