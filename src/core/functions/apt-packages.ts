import { UsageError } from '../../base/errors.js';

/**
 * Debian packages a function names (issue 19), Binder's `apt.txt` convention: one or more
 * package names a line, `#` comments; `--apt NAME` adds one. Names are checked against
 * Debian's policy (and an optional `=version`) before they reach a shell in the build step.
 */
const PACKAGE = /^[a-z0-9][a-z0-9+.-]+(=[A-Za-z0-9.+~:-]+)?$/;

export function parseAptPackages(text: string, source: string): string[] {
  const names: string[] = [];
  text
    .replace(/\r\n?/g, '\n')
    .split('\n')
    .forEach((raw, i) => {
      for (const name of raw.replace(/#.*$/, '').trim().split(/\s+/).filter(Boolean)) names.push(checked(name, `${source}:${i + 1}`));
    });
  return names;
}

/** `--apt NAME` values, each a package (a comma-separated list is split too). */
export function aptFlagPackages(values: string[] | undefined): string[] {
  return (values ?? [])
    .flatMap((v) =>
      v
        .split(',')
        .map((n) => n.trim())
        .filter(Boolean),
    )
    .map((n) => checked(n, '--apt'));
}

function checked(name: string, where: string): string {
  if (!PACKAGE.test(name)) {
    throw new UsageError(`${where}: "${name}" is not a Debian package name`, { code: 'bad_apt', hint: 'lower-case letters, digits and + - . (e.g. python3-six, or python3-six=1.16.0-4)' });
  }
  return name;
}
