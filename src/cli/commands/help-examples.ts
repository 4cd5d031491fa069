import type { Command } from 'commander';

/**
 * Examples for commands whose files another change is editing right now (context: the SSH
 * work). TODO(menu): move each next to its command once that lands.
 */
const EXAMPLES: Record<string, string[]> = {
  'context ls': ['faasctl context ls', 'faasctl context ls --json'],
  'context use': ['faasctl context use lab'],
  'context rm': ['faasctl context rm lab'],
  'context show': ['faasctl context show', 'faasctl --context lab context show --json'],
};

export function addHelpExamples(program: Command): void {
  for (const [path, lines] of Object.entries(EXAMPLES)) {
    const cmd = path.split(' ').reduce<Command | undefined>((c, name) => c?.commands.find((s) => s.name() === name), program);
    cmd?.addHelpText('after', `\n${lines.length > 1 ? 'Examples' : 'Example'}:\n${lines.map((l) => `  ${l}`).join('\n')}`);
  }
}
