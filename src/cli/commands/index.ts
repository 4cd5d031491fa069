import type { Command } from 'commander';
import type { Context } from '../context.js';
import { registerApply } from './apply.js';
import { registerAuth } from './auth/index.js';
import { registerContext } from './context/index.js';
import { registerDoctor } from './doctor.js';
import { registerDispatcher } from './dispatcher.js';
import { registerDlq } from './dlq/index.js';
import { registerFunction } from './fn/index.js';
import { registerCompletion } from './completion.js';
import { registerGc } from './gc.js';
import { addHelpExamples } from './help-examples.js';
import { registerLogs } from './logs.js';
import { registerMenu } from './menu/index.js';
import { registerRequest } from './request/index.js';
import { registerReport } from './report.js';
import { registerSchedule } from './schedule/index.js';
import { registerSecret } from './secret/index.js';
import { registerStats } from './stats.js';
import { registerTop } from './top.js';
import { registerUp } from './up.js';
import { registerUser } from './user/index.js';
import { registerPool } from './pool/index.js';

/** The whole command surface, registered in one place. */
export function registerCommands(program: Command, ctx: Context): void {
  registerUp(program, ctx);
  registerDoctor(program, ctx);
  registerContext(program, ctx);
  registerAuth(program, ctx);
  registerUser(program, ctx);
  registerFunction(program, ctx);
  registerSecret(program, ctx);
  registerRequest(program, ctx);
  registerLogs(program, ctx);
  registerApply(program, ctx);
  registerStats(program, ctx);
  registerTop(program, ctx);
  registerReport(program, ctx);
  registerGc(program, ctx);
  registerDispatcher(program, ctx);
  registerPool(program, ctx);
  registerDlq(program, ctx);
  registerSchedule(program, ctx);
  registerMenu(program, ctx);
  registerCompletion(program, ctx);
  addHelpExamples(program);
}
