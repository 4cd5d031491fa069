import { chmod, mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { UsageError } from '../base/errors.js';
import type { Env } from './resolve.js';
import type { ConfigFile } from './types.js';

/** `$FAASCTL_CONFIG`, else `$XDG_CONFIG_HOME/faasctl/config.json`, else `~/.config/faasctl/config.json`. */
export function configPath(env: Env, homeDir: string): string {
  if (env.FAASCTL_CONFIG) return env.FAASCTL_CONFIG;
  const base = env.XDG_CONFIG_HOME || join(homeDir, '.config');
  return join(base, 'faasctl', 'config.json');
}

export function emptyConfig(): ConfigFile {
  return { contexts: {} };
}

export async function readConfigFile(path: string): Promise<ConfigFile> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return emptyConfig();
    throw err;
  }
  try {
    const parsed = JSON.parse(text) as Partial<ConfigFile>;
    return { ...parsed, contexts: parsed.contexts ?? {} };
  } catch (err) {
    throw new UsageError(`config file ${path} is not valid JSON`, {
      cause: err,
      hint: `fix or remove ${path}`,
    });
  }
}

/**
 * Writes atomically (temp file + rename) with mode 0600: the file holds database
 * passwords and session tokens, and a crash must not leave half a file.
 */
export async function writeConfigFile(path: string, config: ConfigFile): Promise<void> {
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  const tmp = `${path}.${process.pid}.tmp`;
  await writeFile(tmp, `${JSON.stringify(config, null, 2)}\n`, { mode: 0o600 });
  await chmod(tmp, 0o600);
  await rename(tmp, path);
}
