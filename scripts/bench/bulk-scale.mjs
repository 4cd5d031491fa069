// Bulk at scale (issue 26): `fn invoke --bulk FILE` of a trivial warm function (2 replicas) at
// 10k, 100k and 1M inputs, each through the built binary under /usr/bin/time (the CLI's peak
// RSS, the kernel's own figure) with stdout going to a file; the rate is the summary's (answered
// / seconds inside the run). Then a 100k run SIGKILLed at ~50% and resumed: its executions
// (counted by the function itself, one byte per call in its replica's /tmp) and its output
// against an uninterrupted run's, with the timing fields removed (they are measurements).
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { closeSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { bin, requireDep, root } from './platform.mjs';
import { parseSummary } from './replicas.mjs';
import { median } from './stats.mjs';

/** Appends one byte per execution to its replica's tmpfs: the executions, counted outside the CLI. */
export const COUNTING = "def main(data):\n    with open('/tmp/executions', 'a') as f:\n        f.write('x')\n    return data\n";

const label = (n) => (n >= 1e6 ? `${n / 1e6}M` : `${n / 1e3}k`);

export function writeManyInputs(dir, count) {
  const path = join(dir, `inputs-${count}.jsonl`);
  const fd = openSync(path, 'w');
  const CHUNK = 10_000;
  for (let from = 0; from < count; from += CHUNK) {
    const lines = [];
    for (let i = from; i < Math.min(count, from + CHUNK); i++) lines.push(`{"i":${i}}`);
    writeFileSync(fd, `${lines.join('\n')}\n`);
  }
  closeSync(fd);
  return path;
}

/**
 * One CLI run under /usr/bin/time; stdout to `outPath`. `killAt`: SIGKILL the CLI once that
 * many answer lines were written. Returns { status, stderr, maxRssKb, wall }.
 */
export function timedRun(env, args, outPath, killAt) {
  const rssPath = `${outPath}.rss`;
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const child = spawn('/usr/bin/time', ['-f', '%M', '-o', rssPath, process.execPath, bin, ...args], { env, cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
    const out = openSync(outPath, 'w');
    let stderr = '';
    let lines = 0;
    let killed = false;
    child.stdout.on('data', (c) => {
      writeFileSync(out, c);
      if (killAt === undefined || killed) return;
      for (let at = c.indexOf(10); at >= 0; at = c.indexOf(10, at + 1)) lines++;
      if (lines >= killAt) {
        killed = true;
        // /usr/bin/time's child is the CLI: kill it, not the wrapper.
        spawn('pkill', ['-KILL', '-P', String(child.pid)]);
      }
    });
    child.stderr.setEncoding('utf8').on('data', (c) => (stderr += c));
    child.once('error', reject);
    child.once('close', (status) => {
      closeSync(out);
      const rss = /^(\d+)$/m.exec(readFileSync(rssPath, 'utf8'));
      resolve({ status, stderr, maxRssKb: rss ? Number(rss[1]) : null, wall: performance.now() - started, killed });
    });
  });
}

/** The answers without their timing fields, hashed: what two runs of the same inputs share. */
export function answersDigest(path, count) {
  const hash = createHash('sha256');
  let n = 0;
  for (const line of readFileSync(path, 'utf8').split('\n')) {
    if (!line) continue;
    const a = JSON.parse(line);
    if (a.index !== n || a.status !== 'success' || a.result?.i !== n) throw new Error(`unexpected answer at ${n}: ${line.slice(0, 200)}`);
    delete a.latencyMs;
    delete a.durationMs;
    hash.update(`${JSON.stringify(a)}\n`);
    n++;
  }
  if (n !== count) throw new Error(`${n} answers of ${count}`);
  return hash.digest('hex');
}

/** The function's executions so far: the sizes of /tmp/executions in its running replicas. */
export async function executions(serviceId) {
  const Docker = requireDep('dockerode');
  const docker = new Docker();
  const tasks = await docker.listTasks({ filters: { service: [serviceId], 'desired-state': ['running'] } });
  let total = 0;
  for (const t of tasks) {
    const id = t.Status.ContainerStatus?.ContainerID;
    if (!id) continue;
    const exec = await docker.getContainer(id).exec({ Cmd: ['sh', '-c', 'stat -c %s /tmp/executions 2>/dev/null || echo 0'], AttachStdout: true, AttachStderr: true });
    const stream = await exec.start({});
    const chunks = [];
    for await (const c of stream) chunks.push(c);
    const text = Buffer.concat(chunks)
      .toString('latin1')
      .replace(/[\x00-\x08]/g, '');
    total += Number(/(\d+)\s*$/.exec(text)?.[1] ?? 0);
  }
  return total;
}

export async function scaleRuns(platform, name, sizes, repeat) {
  const { env, dir } = platform;
  const rows = [];
  const figures = {};
  for (const size of sizes) {
    const inputs = writeManyInputs(dir, size);
    const rounds = [];
    for (let k = 0; k < (size <= 10_000 ? repeat : 1); k++) {
      const out = join(dir, `out-${size}.ndjson`);
      const r = await timedRun(env, ['fn', 'invoke', name, '--bulk', inputs], out);
      if (r.status !== 0) throw new Error(`bulk of ${size} exited ${r.status}: ${r.stderr.trim().slice(-400)}`);
      const s = parseSummary(r.stderr);
      if (s.answered !== size || s.mode !== 'warm') throw new Error(`bulk of ${size}: ${r.stderr.trim().slice(-300)}`);
      rounds.push({ rssMb: r.maxRssKb / 1024, rate: size / s.seconds, wallRate: size / (r.wall / 1000) });
    }
    figures[size] = { rssMb: median(rounds.map((x) => x.rssMb)), rate: median(rounds.map((x) => x.rate)), wallRate: median(rounds.map((x) => x.wallRate)), rounds };
    console.error(`bench bulk: ${label(size)}: ${figures[size].rssMb.toFixed(1)} MB, ${Math.round(figures[size].rate)}/s`);
  }
  const base = figures[sizes[0]];
  for (const size of sizes) {
    const f = figures[size];
    const rssOk = f.rssMb <= 150 && (size !== sizes.at(-1) || f.rssMb <= 1.2 * base.rssMb);
    rows.push({
      name: `bulk: peak CLI RSS, ${label(size)} inputs (warm, 2 replicas)`,
      median: f.rssMb,
      ratio: f.rssMb / base.rssMb,
      display: `${f.rssMb.toFixed(1)} MB`,
      goal: { text: size === sizes.at(-1) && size !== sizes[0] ? '<= 150 MB and <= 1.2x the smallest' : '<= 150 MB', met: rssOk },
      detail: f,
    });
    rows.push({
      name: `bulk: inputs/s, ${label(size)} inputs`,
      median: f.rate,
      ratio: f.rate / base.rate,
      display: `${Math.round(f.rate)}/s`,
      ...(size === sizes.at(-1) && size !== sizes[0] ? { goal: { text: '>= 0.9x the smallest', met: f.rate >= 0.9 * base.rate } } : {}),
    });
  }
  return rows;
}

/** A run killed at ~50% and resumed, against an uninterrupted one: executions and output. */
export async function resumeRun(platform, name, serviceId, size) {
  const { env, dir } = platform;
  const inputs = writeManyInputs(dir, size);
  const whole = join(dir, 'resume-whole.ndjson');
  const r0 = await timedRun(env, ['fn', 'invoke', name, '--bulk', inputs], whole);
  if (r0.status !== 0) throw new Error(`uninterrupted run exited ${r0.status}: ${r0.stderr.slice(-300)}`);
  const before = await executions(serviceId);
  const first = join(dir, 'resume-first.ndjson');
  const r1 = await timedRun(env, ['fn', 'invoke', name, '--bulk', inputs], first, size / 2);
  const runId = /^request ([0-9a-f-]{36}):/m.exec(r1.stderr)?.[1];
  if (!r1.killed || !runId) throw new Error(`the run to kill ended on its own (${r1.status}) or named no request: ${r1.stderr.slice(-300)}`);
  const resumed = join(dir, 'resume-second.ndjson');
  const r2 = await timedRun(env, ['fn', 'invoke', name, '--bulk', inputs, '--resume', runId], resumed);
  if (r2.status !== 0) throw new Error(`resumed run exited ${r2.status}: ${r2.stderr.slice(-300)}`);
  const ran = (await executions(serviceId)) - before;
  const same = answersDigest(whole, size) === answersDigest(resumed, size);
  const window = Number(/window (\d+)/.exec(r2.stderr)?.[1] ?? 0);
  return [
    {
      name: `bulk: ${label(size)} killed at 50% then resumed: executions`,
      median: ran,
      ratio: ran / size,
      display: String(ran),
      goal: { text: `<= ${size} + the window, and output identical (${same ? 'identical' : 'DIFFERENT'})`, met: same && ran <= size + (window || 4096) },
      detail: { killedAtLines: size / 2, resumedRssMb: r2.maxRssKb / 1024 },
    },
  ];
}
