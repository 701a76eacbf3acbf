import { UserError } from '../errors.js';
import type { CliArgs } from './args.js';
import type { CliIO } from './main.js';
import type { ComposeResult } from '../config/compose.js';
import { composeRequest } from '../hydra/compose.js';
import type { ComposeRequest } from '../hydra/io.js';
import { toYaml } from '../config/omegaconf/dump.js';
import { resolveAll, resolveAt, withFailingKey } from '../config/omegaconf/resolve.js';
import { selectPath } from '../config/omegaconf/path.js';
import { isDict, type ConfigDict, type ConfigValue } from '../config/values.js';
/** What the command line asks Hydra's side to compose. */
export function requestOf(args: CliArgs): ComposeRequest {
  return { configPath: args.configPath, configName: args.configName, configDir: args.configDir, overrides: args.overrides };
}

export function composeFor(args: CliArgs, io: CliIO, runMode: 'RUN' | 'MULTIRUN'): ComposeResult {
  return composeRequest(requestOf(args), io, runMode);
}

function withoutHydra(cfg: ConfigDict): ConfigDict {
  const out: ConfigDict = {};
  for (const k of Object.keys(cfg)) if (k !== 'hydra') out[k] = cfg[k];
  return out;
}

export async function runCommand(args: CliArgs, io: CliIO): Promise<number> {
  const commands = [args.run, args.cfg !== null, args.multirun, args.shellCompletion !== null, args.info !== null].filter(Boolean).length;
  if (commands > 1) throw new UserError('Only one of --run, --multirun, --cfg, --info and --shell_completion can be specified');
  if (args.resolve && args.cfg === null && !args.help) {
    throw new UserError('The --resolve flag can only be used in conjunction with --cfg or --help');
  }
  // Hydra answers --help before anything else
  if (args.help || args.hydraHelp) {
    const { showHelp } = await import('./help.js');
    return showHelp(args, io);
  }
  if (args.cfg !== null) return showConfig(args, io);
  if (args.info !== null) {
    const { showInfo } = await import('./info.js');
    return showInfo(args, io);
  }
  if (args.shellCompletion !== null) {
    const { shellCompletion } = await import('./completion.js');
    return shellCompletion(args, io);
  }
  const [{ runApp }, { fusionBenchApp }] = await Promise.all([import('../hydra/run-app.js'), import('../program/app.js')]);
  return runApp(requestOf(args), io, fusionBenchApp(io), { multirun: args.multirun });
}

/** `--cfg job|hydra|all [--resolve] [--package P]`: Hydra's show_cfg. */
function showConfig(args: CliArgs, io: CliIO): number {
  const { config } = composeFor(args, io, 'RUN');
  const hydra = isDict(config.hydra) ? config.hydra : undefined;
  let cfg: ConfigDict;
  if (args.cfg === 'job') cfg = withoutHydra(config);
  else if (args.cfg === 'hydra') {
    const h: ConfigDict = { ...(hydra ?? {}) };
    delete h.hydra_help;
    delete h.help;
    cfg = { hydra: h };
  } else cfg = config;

  let pkg = args.package;
  if (pkg === '_global_') pkg = null;
  // As Hydra: `OmegaConf.resolve` on the selected node, against the whole config (so `${path.x}` inside a
  // package resolves), turning interpolations of `???` into `???`; a selected leaf is printed resolved
  // (OmegaConf.select resolves it). A failing interpolation names the key that holds it.
  const ctx = { env: io.env, hydra };
  const opts = { missingInterpolations: 'missing' as const };
  let ret: ConfigValue = cfg;
  try {
    if (pkg !== null) {
      const sel = selectPath(cfg, pkg);
      if (sel === undefined || sel === null) throw new UserError(`package '${pkg}' not found in config`);
      ret = args.resolve || (!isDict(sel) && !Array.isArray(sel)) ? (resolveAt(cfg, pkg, ctx, opts) ?? null) : sel;
    } else if (args.resolve) {
      ret = resolveAll(cfg, ctx, opts);
    }
  } catch (e) {
    throw withFailingKey(e);
  }
  if (!isDict(ret) && !Array.isArray(ret)) {
    io.stdout.write(String(ret) + '\n');
    return 0;
  }
  if (pkg !== null) io.stdout.write(`# @package ${pkg}\n`);
  io.stdout.write(toYaml(ret));
  return 0;
}
