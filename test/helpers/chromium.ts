import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { tempDir } from './temp.js';

/**
 * Headless Chromium driven over the DevTools protocol on a pipe (fd 3/4, NUL-separated
 * JSON), so a test can see every network request a page makes and take a screenshot,
 * without any extra package. Host resolution is disabled: nothing the browser tries
 * (its own background traffic included) can leave the machine.
 */
export const CHROMIUM = ['/usr/bin/chromium', '/usr/bin/chromium-browser'].find((p) => existsSync(p));

export interface PageVisit {
  requests: string[];
  failed: Array<{ url: string; error: string }>;
  screenshotPng: Buffer;
  /** Counts of elements by tag name after load, e.g. svg, rect. */
  elements: Record<string, number>;
  consoleErrors: string[];
}

export async function visit(url: string, size = { width: 960, height: 2400 }): Promise<PageVisit> {
  if (!CHROMIUM) throw new Error('chromium is not installed (the test bed installs it)');
  // Its own profile and temp folder: a headless Chromium killed with SIGKILL leaves its default
  // temporary profile (/tmp/org.chromium.Chromium.*) behind.
  const profile = tempDir('faasctl-chromium-');
  const args = [
    `--user-data-dir=${profile}`,
    '--headless',
    '--no-sandbox',
    '--disable-gpu',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
    '--no-first-run',
    '--disable-default-apps',
    '--disable-extensions',
    '--host-resolver-rules=MAP * ~NOTFOUND',
    '--hide-scrollbars',
    `--window-size=${size.width},${size.height}`,
    '--remote-debugging-pipe',
    'about:blank',
  ];
  const child = spawn(CHROMIUM, args, { env: { ...process.env, TMPDIR: profile }, stdio: ['ignore', 'ignore', 'ignore', 'pipe', 'pipe'] });
  const toBrowser = child.stdio[3] as NodeJS.WritableStream;
  const fromBrowser = child.stdio[4] as NodeJS.ReadableStream;
  let nextId = 1;
  const pending = new Map<number, { resolve: (v: Record<string, unknown>) => void; reject: (e: Error) => void }>();
  const listeners: Array<(m: { method: string; params: Record<string, unknown>; sessionId?: string }) => void> = [];
  let buffer = '';
  fromBrowser.on('data', (chunk: Buffer) => {
    buffer += chunk.toString('utf8');
    let cut: number;
    while ((cut = buffer.indexOf('\0')) >= 0) {
      const msg = JSON.parse(buffer.slice(0, cut));
      buffer = buffer.slice(cut + 1);
      if (msg.id && pending.has(msg.id)) {
        const p = pending.get(msg.id)!;
        pending.delete(msg.id);
        if (msg.error) p.reject(new Error(msg.error.message));
        else p.resolve(msg.result ?? {});
      } else if (msg.method) for (const l of listeners) l(msg);
    }
  });
  const send = (method: string, params: Record<string, unknown> = {}, sessionId?: string) =>
    new Promise<Record<string, unknown>>((resolve, reject) => {
      const id = nextId++;
      pending.set(id, { resolve, reject });
      toBrowser.write(`${JSON.stringify({ id, method, params, ...(sessionId ? { sessionId } : {}) })}\0`);
    });
  try {
    const { targetId } = (await send('Target.createTarget', { url: 'about:blank' })) as { targetId: string };
    const { sessionId } = (await send('Target.attachToTarget', { targetId, flatten: true })) as { sessionId: string };
    const requests: string[] = [];
    const failed: PageVisit['failed'] = [];
    const consoleErrors: string[] = [];
    const urls = new Map<string, string>();
    let loaded!: () => void;
    const load = new Promise<void>((resolve) => (loaded = resolve));
    listeners.push((m) => {
      if (m.sessionId !== sessionId) return;
      if (m.method === 'Network.requestWillBeSent') {
        const url = (m.params.request as { url: string }).url;
        urls.set(m.params.requestId as string, url);
        requests.push(url);
      }
      if (m.method === 'Network.loadingFailed') failed.push({ url: urls.get(m.params.requestId as string) ?? '?', error: String(m.params.errorText) });
      if (m.method === 'Runtime.exceptionThrown') consoleErrors.push(JSON.stringify(m.params.exceptionDetails));
      if (m.method === 'Page.loadEventFired') loaded();
    });
    await send('Network.enable', {}, sessionId);
    await send('Page.enable', {}, sessionId);
    await send('Runtime.enable', {}, sessionId);
    await send('Page.navigate', { url }, sessionId);
    await Promise.race([load, new Promise((_, reject) => setTimeout(() => reject(new Error('page did not load in 20 s')), 20_000))]);
    const counted = (await send(
      'Runtime.evaluate',
      { expression: `JSON.stringify(Object.fromEntries(['svg','rect','text','table','tr'].map((t) => [t, document.getElementsByTagName(t).length])))`, returnByValue: true },
      sessionId,
    )) as { result: { value: string } };
    const shot = (await send('Page.captureScreenshot', { format: 'png', captureBeyondViewport: true }, sessionId)) as { data: string };
    return { requests, failed, consoleErrors, elements: JSON.parse(counted.result.value), screenshotPng: Buffer.from(shot.data, 'base64') };
  } finally {
    child.kill('SIGKILL');
  }
}
