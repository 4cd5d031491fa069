import { describe, expect, it } from 'vitest';
import { aptFailure, pipFailure } from '../../src/core/functions/install-failures.js';
import { buildFailureMessage, dependencyDockerfile, STEP_MARKER } from '../../src/core/functions/dependencies.js';
import { aptFlagPackages, parseAptPackages } from '../../src/core/functions/apt-packages.js';

// The installers' own lines, as pip 23 and apt 2.6 print them (seen in the test bed's builds).
const PIP_REFUSED = [
  'Looking in indexes: http://127.0.0.1:9/simple',
  "WARNING: Retrying (Retry(total=0, connect=None, read=None, redirect=None, status=None)) after connection broken by 'NewConnectionError('<pip._vendor.urllib3.connection.HTTPConnection object at 0x7f946106be90>: Failed to establish a new connection: [Errno 111] Connection refused')': /simple/nosuchpkg/",
  'ERROR: Could not find a version that satisfies the requirement nosuchpkg==1.0 (from versions: none)',
  'ERROR: No matching distribution found for nosuchpkg==1.0',
];
const PIP_DNS = [
  "WARNING: Retrying (Retry(total=0, connect=None, read=None, redirect=None, status=None)) after connection broken by 'NewConnectionError('<pip._vendor.urllib3.connection.HTTPSConnection object at 0x7f031c2ff750>: Failed to establish a new connection: [Errno -2] Name or service not known')': /simple/nosuchpkg/",
  'ERROR: Could not find a version that satisfies the requirement nosuchpkg==1.0 (from versions: none)',
];

describe('install failures: the real cause in one line', () => {
  it('tells an unreachable index from a package that does not exist', () => {
    expect(pipFailure(PIP_REFUSED, 'http://127.0.0.1:9/simple')).toEqual({ installer: 'pip', message: 'the package index cannot be reached: Connection refused (http://127.0.0.1:9/simple)' });
    expect(pipFailure(PIP_DNS)?.message).toBe('the package index cannot be reached: Name or service not known');
    expect(
      pipFailure(["WARNING: Retrying (Retry(total=0)) after connection broken by 'ReadTimeoutError(\"HTTPSConnectionPool(host='x', port=443): Read timed out. (read timeout=5)\")': /simple/six/"])
        ?.message,
    ).toMatch(/^the package index cannot be reached: /);
    expect(pipFailure(PIP_REFUSED.slice(2))?.message).toBe('no such package: nosuchpkg==1.0 (pip found no version of it)');
  });

  it('names the versions an index has when none fits, and a version conflict with its causes', () => {
    expect(pipFailure(['ERROR: Could not find a version that satisfies the requirement six==9.9 (from versions: 1.14.0, 1.15.0, 1.16.0)'])?.message).toBe(
      'no version of six==9.9 fits (pip found: 1.14.0, 1.15.0, 1.16.0)',
    );
    const conflict = [
      'ERROR: Cannot install a==1.0 and b==2.0 because these package versions have conflicting dependencies.',
      'The conflict is caused by:',
      '    a 1.0 depends on c==1.0',
      '    b 2.0 depends on c==2.0',
      'ERROR: ResolutionImpossible: for help visit https://pip.pypa.io/en/latest/topics/dependency-resolution/#dealing-with-dependency-conflicts',
    ];
    expect(pipFailure(conflict)?.message).toBe(
      'version conflict: Cannot install a==1.0 and b==2.0 because these package versions have conflicting dependencies. (a 1.0 depends on c==1.0; b 2.0 depends on c==2.0)',
    );
  });

  it("reads apt-get's unreachable index, unknown package, missing version and broken dependencies", () => {
    expect(aptFailure(['E: Failed to fetch http://127.0.0.1:9/debian/dists/bookworm/InRelease  Could not connect to 127.0.0.1:9 (127.0.0.1). - connect (111: Connection refused)'])?.message).toBe(
      'the Debian package index cannot be reached: Could not connect to 127.0.0.1:9 (127.0.0.1). - connect (111: Connection refused) (http://127.0.0.1:9/debian/dists/bookworm/InRelease)',
    );
    expect(aptFailure(['Building dependency tree...', 'E: Unable to locate package python3-nosuchthing'])?.message).toBe('no such Debian package: python3-nosuchthing');
    expect(aptFailure(["E: Version '9.9' for 'python3-six' was not found"])?.message).toBe('no version 9.9 of the Debian package python3-six');
    expect(aptFailure([' python3-x : Depends: python3-y (>= 2) but 1 is to be installed', 'E: Unable to correct problems, you have held broken packages.'])?.message).toBe(
      'version conflict between Debian packages: python3-x : Depends: python3-y (>= 2) but 1 is to be installed',
    );
  });

  it("reads the failed step's own installer: apt's lines are never taken for pip's", () => {
    const lines = [`Step 4/8 : RUN set -e; echo '${STEP_MARKER} apt'; …`, `${STEP_MARKER} apt`, 'E: Unable to locate package python3-nope'];
    expect(buildFailureMessage(lines)).toEqual({ noPip: false, installer: 'apt', message: 'Debian packages failed to install: no such Debian package: python3-nope' });
    expect(buildFailureMessage([...lines.slice(0, 2), `${STEP_MARKER} pip`, ...PIP_REFUSED], 'http://127.0.0.1:9/simple')?.message).toBe(
      'requirements failed to install: the package index cannot be reached: Connection refused (http://127.0.0.1:9/simple)',
    );
  });
});

describe('Debian packages: apt.txt and --apt', () => {
  it("parses Binder's apt.txt: names on lines, comments, optional versions", () => {
    expect(parseAptPackages('# image tools\npython3-six  python3-yaml\n\npython3-idna=3.3-1 # pinned\n', 'apt.txt')).toEqual(['python3-six', 'python3-yaml', 'python3-idna=3.3-1']);
    expect(aptFlagPackages(['python3-six', 'python3-yaml,python3-idna'])).toEqual(['python3-six', 'python3-yaml', 'python3-idna']);
  });

  it('refuses what is not a package name before it reaches the build shell', () => {
    expect(() => parseAptPackages('python3-six\nsix; rm -rf /\n', 'fn/apt.txt')).toThrow('fn/apt.txt:2: "six;" is not a Debian package name');
    expect(() => aptFlagPackages(['$(id)'])).toThrow('--apt: "$(id)" is not a Debian package name');
  });

  it('installs them before the requirements, with no retry and failing on any index it cannot fetch', () => {
    const text = dependencyDockerfile('faasctl/runtime-python:abc', 'h1', undefined, ['python3-six'], false);
    expect(text).toMatch(/apt-get update --error-on=any -o Acquire::Retries=0/);
    expect(text).toMatch(/apt-get install -y --no-install-recommends .* python3-six; /);
    expect(text).not.toMatch(/pip install/);
    expect(text).toMatch(/chmod a-s/);
    expect(text).toMatch(/USER 10001:10001\nLABEL io\.faasctl\.deps=h1\n$/);
    expect(dependencyDockerfile('r', 'h', undefined, [], true)).toMatch(/pip install .* --retries 1 --timeout 5/);
  });
});
