import { type Command, Option } from 'commander';
import type { Context } from '../../context.js';
import type { ScheduleHistoryOptions, ScheduleOptions } from './options.js';

const TIMING_HELP = `
Times (--at, --start, --end) are ISO: 2026-12-24T18:00:00Z, or 2026-12-24T18:00 read in --tz.
A cron slot whose wall-clock time a daylight-saving change skips does not run; one it repeats runs once.
--catch-up decides slots missed while no dispatcher ran: none (skip them, recorded), last (run the
latest), all (run each, in order). --overlap decides a slot due while the previous run is still
open: skip (recorded), queue (wait for it), allow (run anyway).`;

function scheduleOptions(cmd: Command): Command {
  return cmd
    .option('--fn <name>', 'the function to run')
    .option('--cron <expr>', 'a cron pattern: 5 fields, or 6 with seconds first ("0 3 * * *", "*/15 * * * 1-5")')
    .option('--tz <zone>', 'the IANA zone of --cron, and of --at/--start/--end without an offset (default UTC)')
    .option('--every <duration>', 'a fixed period from --start or from now: 2s, 15m, 1h, 1d')
    .option('--at <time>', 'once, at this time')
    .option('--data <json>', 'the input of each run (JSON)')
    .option('--data-file <file>', 'read the input from a file ("-" for stdin)')
    .option('--start <time>', 'no slot before this time')
    .option('--end <time>', 'no slot after this time')
    .addOption(new Option('--overlap <policy>', 'a slot due while the previous run is open (default skip)').choices(['skip', 'queue', 'allow']))
    .addOption(new Option('--catch-up <policy>', 'slots missed while no dispatcher ran (default none)').choices(['none', 'last', 'all']));
}

export function registerSchedule(program: Command, ctx: Context): void {
  const schedule = program.command('schedule').description('run a function on a timetable: cron with time zones, fixed periods, once (needs faasctl up --dispatcher)');
  const run = () => import('./run.js');

  scheduleOptions(schedule.command('create <name>').description('a new schedule of one of your functions'))
    .addHelpText(
      'after',
      `${TIMING_HELP}\n\nExamples:\n  faasctl schedule create nightly --fn export --cron "0 3 * * *" --tz Europe/Berlin --catch-up last\n  faasctl schedule create poll --fn check --every 30s --data '{"url": "https://example.org"}'\n  faasctl schedule create launch --fn announce --at 2026-12-24T18:00 --tz Europe/Berlin`,
    )
    .action(async (name: string, opts: ScheduleOptions) => (await run()).runScheduleCreate(ctx, name, opts));

  scheduleOptions(schedule.command('update <name>').description('change a schedule; a new timing counts from now'))
    .addHelpText('after', `${TIMING_HELP}\n\nExamples:\n  faasctl schedule update nightly --cron "30 2 * * *"\n  faasctl schedule update poll --overlap queue --data '{"url": "https://example.com"}'`)
    .action(async (name: string, opts: ScheduleOptions) => (await run()).runScheduleUpdate(ctx, name, opts));

  schedule
    .command('list')
    .alias('ls')
    .description('your schedules and their next slots')
    .addHelpText('after', '\nExamples:\n  faasctl schedule ls\n  faasctl schedule ls --json')
    .action(async () => (await run()).runScheduleList(ctx));

  schedule
    .command('show <name>')
    .description('a schedule and its next five slots, in its zone and in UTC')
    .addHelpText('after', '\nExamples:\n  faasctl schedule show nightly\n  faasctl schedule show nightly --json')
    .action(async (name: string) => (await run()).runScheduleShow(ctx, name));

  schedule
    .command('history <name>')
    .description('decided slots, newest first: the request each ran as, or why it was skipped')
    .option('--limit <n>', 'at most this many (default 50)')
    .addHelpText('after', '\nfaasctl request show ID has a run in full.\n\nExamples:\n  faasctl schedule history nightly\n  faasctl schedule history poll --limit 500 --json')
    .action(async (name: string, opts: ScheduleHistoryOptions) => (await run()).runScheduleHistory(ctx, name, opts));

  schedule
    .command('pause <name>')
    .description('decide no slot until resumed')
    .addHelpText('after', '\nExample:\n  faasctl schedule pause nightly')
    .action(async (name: string) => (await run()).runSchedulePause(ctx, name, true));

  schedule
    .command('resume <name>')
    .description('run again from the next slot after now (the slots while paused neither run nor count as missed)')
    .addHelpText('after', '\nExample:\n  faasctl schedule resume nightly')
    .action(async (name: string) => (await run()).runSchedulePause(ctx, name, false));

  schedule
    .command('delete <name>')
    .alias('rm')
    .description('delete a schedule and its history (the requests it queued stay in the request log)')
    .addHelpText('after', '\nExample:\n  faasctl schedule delete nightly')
    .action(async (name: string) => (await run()).runScheduleDelete(ctx, name));
}
