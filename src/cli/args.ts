import yargsParser from 'yargs-parser';
import { UserError } from '../errors.js';

export type CfgKind = 'job' | 'hydra' | 'all';
export const INFO_CHOICES = ['all', 'config', 'defaults', 'defaults-tree', 'plugins', 'searchpath', 'targets'] as const;
export type InfoKind = (typeof INFO_CHOICES)[number];

/** The command line, as Hydra's argparse reads it: flags, then the positional overrides in order. */
export interface CliArgs {
  overrides: string[];
  help: boolean;
  hydraHelp: boolean;
  version: boolean;
  cfg: CfgKind | null;
  resolve: boolean;
  package: string | null;
  info: InfoKind | null;
  run: boolean;
  multirun: boolean;
  shellCompletion: string | null;
  configPath: string | null;
  configName: string | null;
  configDir: string | null;
}

/** Hydra's flags, with their short aliases; `-cp`-style two-letter aliases are single options, not groups. */
const FLAGS = {
  boolean: ['help', 'hydra-help', 'version', 'resolve', 'run', 'multirun'],
  string: ['cfg', 'package', 'info', 'config-path', 'config-name', 'config-dir', 'shell-completion'],
  alias: {
    help: ['h'],
    cfg: ['c'],
    package: ['p'],
    info: ['i'],
    run: ['r'],
    multirun: ['m'],
    'config-path': ['cp'],
    'config-name': ['cn'],
    'config-dir': ['cd'],
    'shell-completion': ['sc'],
  } as Record<string, string[]>,
};

const KNOWN = new Set<string>([...FLAGS.boolean, ...FLAGS.string, ...Object.values(FLAGS.alias).flat()]);
const OPTIONAL_VALUE = new Map<string, string>([
  ['--info', 'all'],
  ['-i', 'all'],
  ['--shell-completion', 'install=bash'],
  ['-sc', 'install=bash'],
]);
const OPTIONAL_CHOICES = new Map<string, readonly string[]>([
  ['--info', INFO_CHOICES],
  ['-i', INFO_CHOICES],
]);

/**
 * argparse's `nargs='?'`: `--info` takes the next word only when it is one of its choices, so
 * `fusion-bench --info method=x` means "all the info, with this override".
 */
function fillOptionalValues(argv: string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    out.push(a);
    const dflt = OPTIONAL_VALUE.get(a);
    if (dflt === undefined) continue;
    const next = argv[i + 1];
    const choices = OPTIONAL_CHOICES.get(a);
    // a bare word (no '=', no '-') after the flag is meant as its value: an invalid one is reported as such
    const bare = next !== undefined && !next.startsWith('-') && !next.includes('=');
    const takesNext = next !== undefined && !next.startsWith('-') && (choices ? choices.includes(next) || bare : bare || /^(install|uninstall|query)=/.test(next));
    if (!takesNext) out.push(dflt);
  }
  return out;
}

export function parseArgs(argv: string[]): CliArgs {
  const parsed = yargsParser(fillOptionalValues(argv), {
    boolean: FLAGS.boolean,
    string: FLAGS.string,
    alias: FLAGS.alias,
    configuration: {
      'camel-case-expansion': false,
      'dot-notation': false,
      'parse-numbers': false,
      'parse-positional-numbers': false,
      'short-option-groups': false,
      'boolean-negation': false,
      'duplicate-arguments-array': false,
      'strip-aliased': true,
      'unknown-options-as-args': true,
      'populate--': false,
      'greedy-arrays': false,
    },
  });

  const overrides: string[] = [];
  for (const p of parsed._) {
    const s = String(p);
    if (s.startsWith('-') && !s.startsWith('--=')) {
      const name = s.replace(/^-+/, '').split('=')[0];
      if (!KNOWN.has(name)) throw new UserError(`fusion-bench: error: unrecognized argument '${s}'\nRun 'fusion-bench --help' for usage.`);
    }
    overrides.push(s);
  }

  const one = (k: string): string | null => {
    const v = parsed[k];
    if (v === undefined || v === null) return null;
    return Array.isArray(v) ? String(v[v.length - 1]) : String(v);
  };

  const cfg = one('cfg');
  if (cfg !== null && cfg !== 'job' && cfg !== 'hydra' && cfg !== 'all') {
    throw new UserError(`fusion-bench: error: argument --cfg/-c: invalid choice: '${cfg}' (choose from 'job', 'hydra', 'all')`);
  }
  const info = one('info');
  if (info !== null && !(INFO_CHOICES as readonly string[]).includes(info)) {
    throw new UserError(`fusion-bench: error: argument --info/-i: invalid choice: '${info}' (choose from ${INFO_CHOICES.map((c) => `'${c}'`).join(', ')})`);
  }
  return {
    overrides,
    help: Boolean(parsed.help),
    hydraHelp: Boolean(parsed['hydra-help']),
    version: Boolean(parsed.version),
    cfg,
    resolve: Boolean(parsed.resolve),
    package: one('package'),
    info: info as InfoKind | null,
    run: Boolean(parsed.run),
    multirun: Boolean(parsed.multirun),
    shellCompletion: one('shell-completion'),
    configPath: one('config-path'),
    configName: one('config-name'),
    configDir: one('config-dir'),
  };
}
