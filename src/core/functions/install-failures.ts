/**
 * The one line a failed dependency build is reported with (issue 19): the real cause read from
 * the installers' own output, not their last generic line. pip says `No matching distribution
 * found` whether the index is unreachable, the package does not exist or no version fits; apt
 * says `Unable to locate package` when its index was never fetched. So the connection error is
 * looked for first (pip runs with one retry, which prints it, and a 5 s timeout; apt's update
 * fails on any index it cannot fetch), then what the installer could not find.
 */

export interface InstallFailure {
  installer: 'pip' | 'apt';
  message: string;
}

/** urllib3's reason inside pip's retry warning: `[Errno 111] Connection refused` → `Connection refused`. */
const PIP_CONNECTION = /connection broken by '(\w+)\((?:.*?: )?(?:Failed to establish a new connection: )?(?:\[Errno -?\d+\] )?([^'"]*?)'?\)?'\)?: /;
const PIP_TIMEOUT = /Read timed out|ConnectTimeoutError|timed out/;
const PIP_NOT_FOUND = /^ERROR: Could not find a version that satisfies the requirement (\S+) \(from versions: ([^)]*)\)/;
const PIP_CONFLICT = /^ERROR: (Cannot install .* because these package versions have conflicting dependencies\.)/;

export function pipFailure(lines: string[], indexUrl?: string): InstallFailure | undefined {
  const trimmed = lines.map((l) => l.trim());
  const index = indexUrl ? ` (${indexUrl})` : '';
  for (const line of trimmed) {
    const conn = PIP_CONNECTION.exec(line);
    if (conn) return { installer: 'pip', message: `the package index cannot be reached: ${conn[2] || conn[1]}${index}` };
    if (line.startsWith('WARNING: Retrying') && PIP_TIMEOUT.test(line)) return { installer: 'pip', message: `the package index cannot be reached: timed out${index}` };
  }
  for (const line of trimmed) {
    const conflict = PIP_CONFLICT.exec(line);
    if (conflict) {
      const causes = trimmed.filter((l) => / depends on /.test(l)).slice(0, 3);
      return { installer: 'pip', message: `version conflict: ${conflict[1]}${causes.length ? ` (${causes.join('; ')})` : ''}` };
    }
    const missing = PIP_NOT_FOUND.exec(line);
    if (missing) {
      const versions = missing[2]!.trim();
      return versions === 'none'
        ? { installer: 'pip', message: `no such package: ${missing[1]} (pip found no version of it${index})` }
        : { installer: 'pip', message: `no version of ${missing[1]} fits (pip found: ${shorten(versions)})` };
    }
  }
  const error = [...trimmed].reverse().find((l) => l.startsWith('ERROR:'));
  return error ? { installer: 'pip', message: error } : undefined;
}

const APT_FETCH = /^E: Failed to fetch (\S+)\s+(.*)$/;
const APT_LOCATE = /^E: Unable to locate package (\S+)/;
const APT_VERSION = /^E: Version '([^']+)' for '([^']+)' was not found/;

export function aptFailure(lines: string[]): InstallFailure | undefined {
  const trimmed = lines.map((l) => l.trim());
  for (const line of trimmed) {
    const fetch = APT_FETCH.exec(line);
    if (fetch) return { installer: 'apt', message: `the Debian package index cannot be reached: ${fetch[2]!.trim()} (${fetch[1]})` };
  }
  for (const line of trimmed) {
    const locate = APT_LOCATE.exec(line);
    if (locate) return { installer: 'apt', message: `no such Debian package: ${locate[1]}` };
    const version = APT_VERSION.exec(line);
    if (version) return { installer: 'apt', message: `no version ${version[1]} of the Debian package ${version[2]}` };
    if (/unmet dependencies|held broken packages/.test(line)) {
      const unmet = trimmed.find((l) => /: (Pre)?Depends: /.test(l));
      return { installer: 'apt', message: `version conflict between Debian packages${unmet ? `: ${unmet}` : ''}` };
    }
  }
  const error = [...trimmed].reverse().find((l) => l.startsWith('E: '));
  return error ? { installer: 'apt', message: error } : undefined;
}

function shorten(list: string): string {
  const items = list.split(/,\s*/);
  return items.length <= 6 ? list : `${items.slice(0, 2).join(', ')}, …, ${items.slice(-3).join(', ')}`;
}
