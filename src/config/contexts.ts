import { ConflictError, NotFoundError, UsageError } from '../base/errors.js';
import { DEFAULT_CONTEXT, DEFAULT_DOCKER_HOST, type ConfigFile, type ContextEntry } from './types.js';

const NAME = /^[a-z0-9][a-z0-9_.-]{0,62}$/;

export function validateContextName(name: string): string {
  if (!NAME.test(name)) {
    throw new UsageError(`invalid context name "${name}"`, { hint: 'use 1-63 lower-case letters, digits, ".", "_" or "-", starting with a letter or digit' });
  }
  return name;
}

export function validateHostUrl(host: string): string {
  const scheme = /^([a-z]+):\/\//.exec(host)?.[1];
  if (!scheme || !['unix', 'tcp', 'ssh', 'https', 'http'].includes(scheme)) {
    throw new UsageError(`invalid Docker host "${host}"`, { hint: 'use unix:///var/run/docker.sock, tcp://HOST:2376 or ssh://USER@HOST' });
  }
  return host;
}

export function validateDatabaseUrl(url: string): string {
  if (!/^postgres(ql)?:\/\//.test(url)) {
    throw new UsageError('invalid database URL', { hint: 'use postgres://USER:PASSWORD@HOST:PORT/DATABASE' });
  }
  return url;
}

export interface ContextView {
  name: string;
  current: boolean;
  entry: ContextEntry;
}

/** Every context, with the built-in `default` (the local engine) when the file has none of that name. */
export function listContexts(file: ConfigFile): ContextView[] {
  const current = file.currentContext ?? DEFAULT_CONTEXT;
  const entries: Record<string, ContextEntry> = { [DEFAULT_CONTEXT]: { host: DEFAULT_DOCKER_HOST, description: 'the local engine' }, ...file.contexts };
  return Object.keys(entries)
    .sort()
    .map((name) => ({ name, current: name === current, entry: entries[name]! }));
}

export function addContext(file: ConfigFile, name: string, entry: ContextEntry, options: { force?: boolean } = {}): ConfigFile {
  validateContextName(name);
  if (file.contexts[name] && !options.force) {
    throw new ConflictError(`context "${name}" already exists`, { hint: `pass --force to replace it, or faasctl context rm ${name}` });
  }
  return { ...file, contexts: { ...file.contexts, [name]: entry } };
}

/** Changes part of a context, creating it from the defaults when missing (e.g. `up` storing a URL). */
export function updateContext(file: ConfigFile, name: string, change: (entry: ContextEntry) => ContextEntry): ConfigFile {
  const entry = file.contexts[name] ?? (name === DEFAULT_CONTEXT ? {} : undefined);
  if (!entry) throw new NotFoundError(`context "${name}" not found`, { hint: 'faasctl context ls lists them' });
  return { ...file, contexts: { ...file.contexts, [name]: change(entry) } };
}

export function useContext(file: ConfigFile, name: string): ConfigFile {
  if (name !== DEFAULT_CONTEXT && !file.contexts[name]) {
    throw new NotFoundError(`context "${name}" not found`, { hint: 'faasctl context ls lists them; faasctl context add creates one' });
  }
  return { ...file, currentContext: name };
}

export function removeContext(file: ConfigFile, name: string): ConfigFile {
  if (!file.contexts[name]) throw new NotFoundError(`context "${name}" not found`, { hint: 'faasctl context ls lists them' });
  const contexts = { ...file.contexts };
  delete contexts[name];
  const currentContext = file.currentContext === name ? undefined : file.currentContext;
  return { ...file, contexts, currentContext };
}
