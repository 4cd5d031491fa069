import { EXIT, type ExitCode } from '../base/errors.js';

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

const CPU_RANGE = /Range of CPUs is from ([\d.]+) to ([\d.]+), as there (?:are|is) only (\d+) CPUs? available/i;
const NO_IMAGE = /No such image:?\s*([^\s,)]+)/i;

/** The refusal in an engine's error text, or undefined for anything else. */
export function engineRefusal(text: string): Refusal | undefined {
  const cpus = CPU_RANGE.exec(text);
  if (cpus) {
    // Worded without the figure asked: a bulk or warm replica asks the function's limit times
    // its workers, and the line must read the same on every path.
    return {
      message: `the function's CPU limit is more than the node that was to run it has (${cpus[3]} CPUs; the engine allows ${cpus[1]} to ${cpus[2]} per container)`,
      hint: `lower the limit to at most ${cpus[2]}: --cpus ${cpus[2]} (fn run), or faasctl fn update NAME --cpus ${cpus[2]}`,
      exitCode: EXIT.platform,
    };
  }
  const image = NO_IMAGE.exec(text);
  if (image) {
    return {
      message: `the image ${image[1]} is not on the node that was to run it`,
      hint: 'run faasctl up (it builds the runtime image, and pushes it to the registry of a multi-node Swarm); docker image ls on that node shows what it has',
      exitCode: EXIT.platform,
    };
  }
  return undefined;
}
