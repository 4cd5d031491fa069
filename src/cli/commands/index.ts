import type { Command } from 'commander';
import type { Context } from '../context.js';
import { registerContext } from './context/index.js';
import { registerDoctor } from './doctor.js';
import { registerUp } from './up.js';

/** The whole command surface, registered in one place. */
export function registerCommands(program: Command, ctx: Context): void {
  registerUp(program, ctx);
  registerDoctor(program, ctx);
  registerContext(program, ctx);
}
