import type { CliArgs } from './args.js';
import { INFO_CHOICES, parseArgs } from './args.js';
import type { CliIO } from './main.js';
import { UserError } from '../errors.js';
import { composeFor } from './commands.js';
import { groupOptionsDeep, isHydraGroup, listAllConfigGroups } from '../config/groups.js';
import { isDict, type ConfigDict } from '../config/values.js';

const FLAGS = ['--help', '--hydra-help', '--version', '--cfg', '--resolve', '--package', '--info', '--run', '--multirun', '--shell-completion', '--config-path', '--config-name', '--config-dir'];
const SHELLS = ['bash', 'zsh', 'fish'] as const;
type Shell = (typeof SHELLS)[number];

/**
 * bash splits words at COMP_WORDBREAKS, which holds `=` and `:`, so `method=task_ar` arrives as three
 * words. The script therefore completes the whole shell word before the cursor (from COMP_LINE), then
 * gives bash each candidate without the part before the last word-break character, which is what bash
 * replaces. A candidate ending in `=`, `.` or `/` gets no space after it: more is to be typed.
 */
function bashScript(): string {
  return `# fusion-bench bash completion; install with: eval "$(fusion-bench -sc install=bash)"
_fusion_bench_complete() {
  local line="\${COMP_LINE:0:COMP_POINT}"
  local cur="\${line##*[[:space:]]}"
  local cut=0 i
  for ((i = \${#cur} - 1; i >= 0; i--)); do
    if [[ "\$COMP_WORDBREAKS" == *"\${cur:i:1}"* ]]; then cut=$((i + 1)); break; fi
  done
  local IFS=$'\\n'
  local words=($(COMP_LINE="\$line" fusion-bench -sc query=bash 2>/dev/null))
  COMPREPLY=()
  for i in "\${words[@]}"; do
    [[ "\$i" == "\$cur"* ]] && COMPREPLY+=("\${i:cut}")
  done
  if [[ \${#COMPREPLY[@]} -ne 1 || "\${COMPREPLY[0]}" == *[=./] ]]; then compopt -o nospace 2>/dev/null; fi
  return 0
}
complete -F _fusion_bench_complete fusion-bench
`;
}

/** zsh keeps `key=value` as one word: the candidates are added as they are, those ending in = . / without a space. */
function zshScript(): string {
  return `# fusion-bench zsh completion; install with: eval "$(fusion-bench -sc install=zsh)" (after compinit)
_fusion_bench() {
  local line="\${(j: :)words[1,CURRENT]}"
  local -a all more done_
  all=("\${(@f)$(COMP_LINE="\$line" fusion-bench -sc query=zsh 2>/dev/null)}")
  more=(\${(M)all:#*[=./]})
  done_=(\${all:#*[=./]})
  (( \${#more} )) && compadd -Q -S '' -- "\${more[@]}"
  (( \${#done_} )) && compadd -Q -- "\${done_[@]}"
  return 0
}
compdef _fusion_bench fusion-bench
`;
}

/** fish asks for the candidates of the current token; it adds no space after a trailing = . or /. */
function fishScript(): string {
  return `# fusion-bench fish completion; install with: fusion-bench -sc install=fish | source
function __fusion_bench_complete
    COMP_LINE=(commandline -cp | string collect) fusion-bench -sc query=fish 2>/dev/null
end
complete -c fusion-bench -f -a '(__fusion_bench_complete)'
`;
}

function uninstallScript(shell: Shell): string {
  if (shell === 'bash') return 'complete -r fusion-bench\n';
  if (shell === 'zsh') return 'compdef -d fusion-bench\n';
  return 'complete -c fusion-bench -e\n';
}

/** `a=1,2,3` (a sweep) → `a=1`: completion composes with one value of each sweep typed so far. */
function firstSweepValue(override: string): string | null {
  const m = /^([^=]+)=(.*)$/.exec(override);
  if (m === null) return override;
  const value = m[2]!;
  if (/^(range|choice|glob|interval|tag|sort|shuffle)\(/.test(value)) return null;
  if (!value.includes(',') || /^[[{'"]/.test(value)) return override;
  return `${m[1]}=${value.split(',')[0]}`;
}

/**
 * Words that complete the last word of COMP_LINE: flags, flag values, `group=option` for config groups
 * (options in sub-folders included), and `key.path=` for config keys, from the config composed with the
 * flags and overrides already typed (sweeps by their first value, overrides that do not compose dropped).
 */
export function completionWords(line: string, io: CliIO, args: CliArgs): string[] {
  const words = line.replace(/^\s+/, '').split(/\s+/).slice(1);
  const last = words.length ? words[words.length - 1]! : '';
  const before = words.slice(0, -1);
  const prev = before[before.length - 1];
  if (last.startsWith('-')) return FLAGS.filter((f) => f.startsWith(last));
  if (prev === '--cfg' || prev === '-c') return ['job', 'hydra', 'all'].filter((w) => w.startsWith(last));
  if (prev === '--info' || prev === '-i') return INFO_CHOICES.filter((w) => w.startsWith(last));
  if (prev === '--shell-completion' || prev === '-sc') return SHELLS.flatMap((s) => [`install=${s}`, `uninstall=${s}`]).filter((w) => w.startsWith(last));

  let lineArgs: CliArgs = args;
  try {
    // the config name being typed is not one yet: the line's other config flags still count
    lineArgs = { ...args, ...definedOnly(parseArgs(prev === '--config-name' || prev === '-cn' ? before.slice(0, -1) : before)) };
  } catch {
    // a half-typed flag: complete from the defaults
  }
  if (['--config-dir', '-cd', '--config-path', '-cp', '--package', '-p'].includes(prev ?? '')) return [];
  const typed = before.filter((w) => w.includes('=') && !w.startsWith('-')).map(firstSweepValue).filter((w): w is string => w !== null);
  const composed = composeLeniently(lineArgs, typed, io);
  if (composed === null) return [];
  const { config, repository } = composed;
  if (prev === '--config-name' || prev === '-cn') return repository.groupOptions('', 'config').filter((w) => !w.startsWith('_') && w.startsWith(last));

  const eq = last.indexOf('=');
  if (eq >= 0) {
    const key = last.slice(0, eq);
    const group = key.replace(/^[+~]+/, '').replace(/@.*$/, '');
    return groupOptionsDeep(repository, group)
      .map((o) => `${key}=${o}`)
      .filter((w) => w.startsWith(last));
  }
  const out: string[] = [];
  // sub-folders of a group are chosen through it (`method=dare/…`, `modelpool=CLIPVisionModelPool/…`)
  for (const g of listAllConfigGroups(repository)) if (!isHydraGroup(g)) out.push(`${g.split('/')[0]}=`);
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
  return [...new Set(out)].filter((w) => w.startsWith(last));
}

/** The config flags typed on the line (the others do not change what completes). */
function definedOnly(a: CliArgs): Partial<CliArgs> {
  const out: Partial<CliArgs> = {};
  if (a.configName !== null) out.configName = a.configName;
  if (a.configDir !== null) out.configDir = a.configDir;
  if (a.configPath !== null) out.configPath = a.configPath;
  return out;
}

/** The config with as many of the typed overrides as compose: all, then those before the first that fails. */
function composeLeniently(args: CliArgs, typed: string[], io: CliIO): ReturnType<typeof composeFor> | null {
  for (let n = typed.length; n >= 0; n--) {
    try {
      return composeFor({ ...args, overrides: typed.slice(0, n) }, io, 'RUN');
    } catch {
      // try with fewer overrides
    }
  }
  return null;
}

const USAGE = `--shell-completion takes install=SHELL, uninstall=SHELL or query=SHELL with SHELL one of ${SHELLS.join(', ')}`;

/** `-sc install=bash|zsh|fish` prints a script to eval, `uninstall=…` removes it, `query=…` answers it. */
export function shellCompletion(args: CliArgs, io: CliIO): number {
  const [action, shell] = (args.shellCompletion ?? 'install=bash').split('=');
  if (!['install', 'uninstall', 'query'].includes(action!) || shell === undefined) throw new UserError(`${USAGE}, not '${args.shellCompletion}'`);
  if (!(SHELLS as readonly string[]).includes(shell)) throw new UserError(`Shell completion is available for ${SHELLS.join(', ')}, not '${shell}'`);
  const sh = shell as Shell;
  if (action === 'install') io.stdout.write(sh === 'bash' ? bashScript() : sh === 'zsh' ? zshScript() : fishScript());
  else if (action === 'uninstall') io.stdout.write(uninstallScript(sh));
  else io.stdout.write(completionWords(io.env.COMP_LINE ?? 'fusion-bench ', io, args).join('\n') + '\n');
  return 0;
}
