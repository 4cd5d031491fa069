// ssh:// against the local unix socket, on the test bed's sshd (scripts/testbed.sh) in front of
// the same dockerd: (1) one Docker API call (GET /version) after the SSH handshake, through
// faasctl's own transport (one connection, channels over it), and (2) a cold `fn invoke` by
// the binary, interleaved run by run. The handshake itself is reported, not part of (1).
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { mustFaasctl, root, withPlatform } from './platform.mjs';
import { median, ms } from './stats.mjs';

const SSH_DIR = process.env.FAASCTL_TESTBED_SSH_DIR ?? '/var/lib/faasctl-testbed/ssh';
const SSH_PORT = Number(process.env.FAASCTL_TESTBED_SSH_PORT ?? 2222);
const SSH_HOST = `ssh://root@127.0.0.1:${SSH_PORT}`;
const FN_NAME = 'bench-ssh-sum';
const INPUT = join(root, 'examples', 'sum.input.json');
const silent = { debug: () => {} };

/** faasctl's transport modules, bundled from src/ (the CLI bundle does not export them). */
async function loadTransport() {
  const { build } = await import('esbuild');
  const outdir = join(root, '.bench', 'lib');
  mkdirSync(outdir, { recursive: true });
  await build({
    entryPoints: { 'swarm-client': join(root, 'src/swarm/docker-swarm-client.ts'), 'ssh-tunnel': join(root, 'src/swarm/ssh-tunnel.ts') },
    outdir,
    bundle: true,
    platform: 'node',
    format: 'esm',
    outExtension: { '.js': '.mjs' },
    external: ['dockerode', 'docker-modem', 'ssh2', 'tar-stream'],
    logLevel: 'warning',
  });
  const [{ connectSwarm }, { openSshTunnel }] = await Promise.all([import(join(outdir, 'swarm-client.mjs')), import(join(outdir, 'ssh-tunnel.mjs'))]);
  return { connectSwarm, openSshTunnel };
}

async function timeCalls(client, runs) {
  for (let i = 0; i < 20; i++) await client.engineInfo(); // warm-up: channel open, keep-alive
  const times = [];
  for (let i = 0; i < runs; i++) {
    const t = performance.now();
    await client.engineInfo();
    times.push(performance.now() - t);
  }
  return median(times);
}

export async function benchSshApi(runs = 300) {
  const { connectSwarm, openSshTunnel } = await loadTransport();
  const started = performance.now();
  const tunnel = await openSshTunnel(
    { host: '127.0.0.1', port: SSH_PORT, username: 'root', identityFile: `${SSH_DIR}/id_ed25519`, defaultIdentityFiles: [], knownHostsFiles: [`${SSH_DIR}/known_hosts`], insecureIgnoreHostKey: false },
    silent,
  );
  const handshake = performance.now() - started;
  const unix = connectSwarm('unix:///var/run/docker.sock', undefined, silent);
  const ssh = connectSwarm(SSH_HOST, undefined, silent, tunnel);
  try {
    // Interleaved halves, so drift on the machine hits both alike.
    const u1 = await timeCalls(unix, runs / 2),
      s1 = await timeCalls(ssh, runs / 2);
    const u2 = await timeCalls(unix, runs / 2),
      s2 = await timeCalls(ssh, runs / 2);
    const u = (u1 + u2) / 2,
      s = (s1 + s2) / 2;
    return [
      { name: 'ssh api: GET /version over the unix socket (floor)', median: u, ratio: 1, display: ms(u) },
      { name: 'ssh api: GET /version over ssh://, after the handshake', median: s, ratio: s / u, target: 2, display: ms(s), detail: { handshakeMs: Number(handshake.toFixed(1)) } },
    ];
  } finally {
    await ssh.close();
    await unix.close();
    await tunnel.close();
  }
}

export function benchSshInvoke(runs = 8) {
  return withPlatform('ssh-invoke', async ({ env, dir, runLabel, atExit }) => {
    const overSsh = { ...env, FAASCTL_HOST: SSH_HOST, FAASCTL_SSH_KEY: `${SSH_DIR}/id_ed25519`, FAASCTL_SSH_KNOWN_HOSTS: `${SSH_DIR}/known_hosts` };
    mustFaasctl(env, ['fn', 'delete', FN_NAME], undefined, [0, 3]);
    // Its own bytes, so its code config is its own (see invoke.mjs: fn delete removes unused configs).
    const code = join(dir, 'bench_ssh_sum.py');
    writeFileSync(code, `${readFileSync(join(root, 'examples', 'sum.py'), 'utf8')}\n# faasctl bench ssh run ${runLabel}\n`);
    mustFaasctl(env, ['fn', 'deploy', code, '--name', FN_NAME]);
    atExit(() => mustFaasctl(env, ['fn', 'delete', FN_NAME], undefined, [0, 3]));
    const invoke = (e) => {
      const r = mustFaasctl(e, ['fn', 'invoke', FN_NAME, '--data-file', INPUT, '--json', '--cold']);
      if (JSON.parse(r.stdout).result?.sum !== 25.5) throw new Error(`unexpected answer: ${r.stdout}`);
      return r.wall;
    };
    const unix = [],
      ssh = [];
    for (let i = -2; i < runs; i++) {
      const u = invoke(env),
        s = invoke(overSsh);
      if (i >= 0) unix.push(u), ssh.push(s);
    }
    const u = median(unix),
      s = median(ssh);
    return [
      { name: 'ssh invoke: fn invoke (cold) over the unix socket (floor)', median: u, ratio: 1, display: ms(u) },
      { name: 'ssh invoke: fn invoke (cold) over ssh://', median: s, ratio: s / u, target: 1.2, display: ms(s) },
    ];
  });
}
