import { EXIT, type ExitCode } from './errors.js';

/**
 * What the engine says when it will not run a function's container, worded once for every
 * path that meets it (issue 17, "one error path"): `fn run` hears it from container create,
 * `fn invoke`, bulk and the menu from a rejected Swarm task. Same fault, same line, same exit.
 */
export interface Refusal {
  message: string;
  hint: string;
  exitCode: ExitCode;
}

export interface Asked {
  /** The function's CPU limit, in units of 1e-9 CPUs. */
  nanoCpus?: number;
}

const CPU_RANGE = /Range of CPUs is from ([\d.]+) to ([\d.]+), as there (?:are|is) only (\d+) CPUs? available/i;
const NO_IMAGE = /No such image:?\s*([^\s,)]+)/i;

/** The refusal in an engine's error text, or undefined for anything else. */
export function engineRefusal(text: string, asked: Asked = {}): Refusal | undefined {
  const cpus = CPU_RANGE.exec(text);
  if (cpus) {
    const wanted = asked.nanoCpus ? `${+(asked.nanoCpus / 1e9).toFixed(2)} CPUs` : 'more CPUs than it has';
    return {
      message: `the function asks for ${wanted}; the node that was to run it has ${cpus[3]} (the engine allows ${cpus[1]} to ${cpus[2]})`,
      hint: `lower the limit to at most ${cpus[2]}: --cpus ${cpus[2]} (fn run), or faasctl fn update NAME --cpus ${cpus[2]}`,
      exitCode: EXIT.platform,
    };
  }
  const image = NO_IMAGE.exec(text);
  if (image) {
    return {
      message: `the image ${image[1]} is not on the node that was to run it`,
      hint: 'run faasctl up (it builds the runtime image, and pushes it to the registry of a multi-node Swarm); a dependency image comes back with faasctl fn update NAME DIR',
      exitCode: EXIT.platform,
    };
  }
  return undefined;
}
