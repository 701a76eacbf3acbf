import type { CliArgs } from './args.js';
import type { CliIO } from './main.js';
import { UserError } from '../errors.js';
import { composeFor } from './commands.js';
import { listAllConfigGroups } from '../config/groups.js';
import { isDict, type ConfigDict } from '../config/values.js';

const FLAGS = ['--help', '--hydra-help', '--version', '--cfg', '--resolve', '--package', '--info', '--run', '--multirun', '--shell-completion', '--config-path', '--config-name', '--config-dir'];

function bashScript(): string {
  return `# fusion-bench bash completion; install with: eval "$(fusion-bench -sc install=bash)"
_fusion_bench_complete() {
  local words
  words=$(COMP_LINE="$COMP_LINE" fusion-bench -sc query=bash 2>/dev/null)
  COMPREPLY=($(compgen -W "$words" -- "\${COMP_WORDS[COMP_CWORD]}"))
  compopt -o nospace 2>/dev/null
}
complete -F _fusion_bench_complete fusion-bench
`;
}

/**
 * Words that complete the last word of COMP_LINE: flags, `group=option` for config groups, and
 * `key.path=` for config keys, from the config composed with the overrides already typed.
 */
export function completionWords(line: string, io: CliIO, args: CliArgs): string[] {
  const words = line.split(/\s+/).slice(1);
  const last = words.length ? words[words.length - 1] : '';
  if (last.startsWith('-')) return FLAGS.filter((f) => f.startsWith(last));
  const typed = words.slice(0, -1).filter((w) => w.includes('=') && !w.startsWith('-'));
  const { config, repository } = composeFor({ ...args, overrides: typed }, io, 'RUN');
  const out: string[] = [];
  const eq = last.indexOf('=');
  if (eq >= 0) {
    const group = last.slice(0, eq).replace(/^[+~]+/, '');
    for (const o of repository.groupOptions(group, 'config')) out.push(`${last.slice(0, eq)}=${o}`);
    return out;
  }
  for (const g of listAllConfigGroups(repository)) if (!g.startsWith('hydra')) out.push(`${g}=`);
  const walk = (node: ConfigDict, prefix: string, depth: number) => {
    for (const k of Object.keys(node)) {
      if (k === 'hydra' && prefix === '') continue;
      const key = prefix ? `${prefix}.${k}` : k;
      const v = node[k];
      if (isDict(v) && depth < 3) walk(v, key, depth + 1);
      else out.push(`${key}=`);
    }
  };
  walk(config, '', 0);
  return out.filter((w) => w.startsWith(last));
}

/** `-sc install=bash` prints a script to eval, `uninstall=bash` removes it, `query=bash` answers it. */
export function shellCompletion(args: CliArgs, io: CliIO): number {
  const [action, shell] = (args.shellCompletion ?? 'install=bash').split('=');
  if (!['install', 'uninstall', 'query'].includes(action) || shell === undefined) {
    throw new UserError(`--shell-completion takes install=bash, uninstall=bash or query=bash, not '${args.shellCompletion}'`);
  }
  if (shell !== 'bash') throw new UserError(`Shell completion is available for bash only, not '${shell}'`);
  if (action === 'install') io.stdout.write(bashScript());
  else if (action === 'uninstall') io.stdout.write('complete -r fusion-bench\n');
  else if (action === 'query') io.stdout.write(completionWords(io.env.COMP_LINE ?? 'fusion-bench ', io, args).join('\n') + '\n');
  else throw new UserError(`--shell-completion takes install=bash, uninstall=bash or query=bash, not '${args.shellCompletion}'`);
  return 0;
}
