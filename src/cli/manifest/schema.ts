import type * as Zod from 'zod';

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
    })
    .superRefine((f, ctx) => {
      if ((f.code === undefined) === (f.source === undefined)) ctx.addIssue({ code: 'custom', message: 'give exactly one of code (a path) or source (the code itself)', path: [] });
      if (f.requirements !== undefined && f.requirementsText !== undefined)
        ctx.addIssue({ code: 'custom', message: 'give requirements (a path) or requirementsText, not both', path: ['requirementsText'] });
    });
  return z.strictObject({
    version: z.literal(1).optional(),
    functions: z.record(z.string(), fn),
  });
}

export type Manifest = Zod.infer<ReturnType<typeof manifestSchema>>;
export type ManifestFunction = Manifest['functions'][string];
