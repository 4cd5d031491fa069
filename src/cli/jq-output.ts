import { Writable } from 'node:stream';
import { UsageError } from '../base/errors.js';
import { importExternal } from '../base/external.js';

type Jq = { raw: (data: string, filter: string, flags?: string[]) => Promise<string> };

async function loadJq(): Promise<Jq> {
  const mod = await importExternal<Jq & { default?: Jq }>('jq-wasm');
  return mod.default ?? mod;
}

/** jq's message, first line, without its "jq: error" prefix. */
function jqMessage(err: unknown): string {
  return String((err as Error).message ?? err)
    .split('\n')[0]!
    .replace(/^jq: error(?: \(at [^)]*\))?: /, '');
}

/**
 * Refuses an expression jq cannot compile, before the command runs (a deploy must not happen
 * and then fail at its output). Errors jq only finds on real data come later.
 */
export async function checkJqExpression(expression: string): Promise<void> {
  const jq = await loadJq();
  try {
    await jq.raw('null', expression, ['-c']);
  } catch (err) {
    if (/compile error/.test((err as Error).message)) throw new UsageError(`--jq: ${jqMessage(err)}`, { code: 'bad_jq', hint: "a jq expression, e.g. --jq '.[].name' (see the jq manual)" });
  }
}

/**
 * What a command writes to stdout with --jq: its --json output (made one line per document,
 * as this stream is no terminal) goes through jq line by line, in order, as it comes, so NDJSON
 * streams (logs --follow, fn invoke --bulk) are filtered per event. Strings come out raw, other
 * values as compact JSON, one per line: gh's --jq.
 */
export class JqOutput extends Writable {
  readonly isTTY = false;
  private pending = '';
  private chain: Promise<void> = Promise.resolve();
  private failure?: Error;

  constructor(
    private readonly expression: string,
    private readonly out: NodeJS.WritableStream,
  ) {
    super();
  }

  override _write(chunk: Buffer | string, _encoding: string, done: (err?: Error | null) => void): void {
    this.pending += chunk.toString();
    const lines = this.pending.split('\n');
    this.pending = lines.pop() ?? '';
    for (const line of lines) if (line.trim()) this.enqueue(line);
    done();
  }

  private enqueue(line: string): void {
    this.chain = this.chain.then(async () => {
      if (this.failure) return;
      try {
        const result = await (await loadJq()).raw(line, this.expression, ['-r', '-c']);
        if (result) this.out.write(result.endsWith('\n') ? result : `${result}\n`);
      } catch (err) {
        this.failure = new UsageError(`--jq: ${jqMessage(err)}`, { code: 'jq_failed', hint: 'faasctl … --json shows the document the expression is applied to' });
      }
    });
  }

  /** Waits for every line written so far; throws the first jq error. */
  async settle(): Promise<void> {
    if (this.pending.trim()) this.enqueue(this.pending);
    this.pending = '';
    await this.chain;
    if (this.failure) throw this.failure;
  }
}
