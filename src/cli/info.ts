import type { CliArgs } from './args.js';
import type { CliIO } from './main.js';
import { composeFor } from './commands.js';
import { toYaml } from '../config/omegaconf/dump.js';
import type { ConfigDict } from '../config/values.js';
import { renderDefaultsTree } from '../config/defaults/build.js';
import { createBuiltinRegistry } from '../registry/builtins.js';
import { VERSION } from '../version.js';

function banner(title: string): string {
  return `${title}\n${'*'.repeat(title.length)}\n`;
}

/** A table with `|` columns, padded to the widest cell, as Hydra's --info prints them. */
function table(head: string[], rows: string[][]): string {
  const w = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) => '| ' + cells.map((c, i) => c.padEnd(w[i])).join(' | ') + ' |';
  const header = line(head);
  return [header, '-'.repeat(header.length), ...rows.map(line)].join('\n') + '\n';
}

function pyBool(b: boolean): string {
  return b ? 'True' : 'False';
}

/** `--info [all|config|defaults|defaults-tree|plugins|searchpath|targets]`. */
export function showInfo(args: CliArgs, io: CliIO): number {
  const what = args.info ?? 'all';
  const out: string[] = [];
  if (what === 'targets') {
    const reg = createBuiltinRegistry();
    const aliases = new Map<string, string[]>();
    for (const n of reg.names()) {
      const c = reg.canonicalName(n)!;
      if (!aliases.has(c)) aliases.set(c, []);
      if (c !== n) aliases.get(c)!.push(n);
    }
    const rows = [...aliases.keys()].sort().map((c) => [c, reg.get(c).summary ?? '', aliases.get(c)!.sort().join(', ')]);
    io.stdout.write(banner('Registered _target_ names') + table(['Target', 'What', 'Also known as'], rows));
    // the parameters targets declare as data (merging methods): the keys a config may give them
    const documented = [...aliases.keys()].sort().filter((c) => reg.get(c).paramsDoc !== undefined);
    io.stdout.write('\n' + banner('Parameters'));
    for (const c of documented) {
      const docs = reg.get(c).paramsDoc!;
      io.stdout.write(`\n${c}:\n` + (docs.length ? table(['Parameter', 'Type', 'Default', 'What'], docs.map((d) => [d.name, d.type, d.default, d.doc])) : '(no parameters)\n'));
    }
    return 0;
  }
  const { config, defaults, searchPath, tree } = composeFor(args, io, 'RUN');
  if (what === 'all') out.push(`fusion-bench ${VERSION} (Hydra 1.3.2 compatible)\n`);
  if (what === 'all' || what === 'searchpath') {
    out.push(banner('Config search path') + table(['Provider', 'Search path'], searchPath.map((e) => [e.provider, e.path])));
  }
  if (what === 'all' || what === 'plugins') {
    out.push(banner('Installed Hydra Plugins') + 'BasicLauncher (built in): runs jobs one after another in this process\nBasicSweeper (built in): cartesian product of the sweep overrides\n');
  }
  if (what === 'all' || what === 'defaults-tree') out.push(banner('Defaults Tree') + renderDefaultsTree(tree).join('\n') + '\n');
  if (what === 'all' || what === 'defaults') {
    out.push(banner('Defaults List') + table(['Config path', 'Package', '_self_', 'Parent'], defaults.map((d) => [d.configPath, d.package, pyBool(d.isSelf), d.parent ?? ''])));
  }
  if (what === 'all' || what === 'config') {
    const job: ConfigDict = {};
    for (const k of Object.keys(config)) if (k !== 'hydra') job[k] = config[k];
    out.push(banner('Config') + toYaml(job));
  }
  io.stdout.write(out.join('\n'));
  return 0;
}
