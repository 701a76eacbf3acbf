import { UserError } from '../errors.js';
import type { CliArgs } from './args.js';
import type { CliIO } from './main.js';
import { defaultConfigDir } from '../util/package-root.js';
import { composeConfig, type ComposeResult } from '../config/compose.js';
import { toYaml } from '../config/omegaconf/dump.js';
import { resolveAll, resolveAt, withFailingKey } from '../config/omegaconf/resolve.js';
import { selectPath } from '../config/omegaconf/path.js';
import { isDict, type ConfigDict, type ConfigValue } from '../config/values.js';
import { isAbsolute, resolve } from 'node:path';

/** Hydra's `--config-path` is relative to the working directory here (Python's is relative to the script). */
function configPathOf(args: CliArgs, io: CliIO): string {
  if (args.configPath === null) return defaultConfigDir;
  return isAbsolute(args.configPath) ? args.configPath : resolve(io.cwd, args.configPath);
}

export function composeFor(args: CliArgs, io: CliIO, runMode: 'RUN' | 'MULTIRUN'): ComposeResult {
  return composeConfig({
    configPath: configPathOf(args, io),
    configName: args.configName ?? 'fabric_model_fusion',
    configDirs: args.configDir === null ? [] : [isAbsolute(args.configDir) ? args.configDir : resolve(io.cwd, args.configDir)],
    overrides: args.overrides,
    runMode,
    withHydra: true,
    env: io.env,
    cwd: io.cwd,
    fromShell: true,
  });
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
  // Hydra's get_mode: a config may ask for a sweep itself (hydra.mode: MULTIRUN); otherwise a run
  // records hydra.mode=RUN among the hydra overrides, as Hydra's _run_app does.
  const mode = args.multirun ? 'MULTIRUN' : configuredMode(args, io);
  if (mode === 'MULTIRUN') {
    const { runSweep } = await import('../program/sweep.js');
    return runSweep(args, io);
  }
  const { runJob } = await import('../program/job.js');
  return runJob(mode === null ? { ...args, overrides: [...args.overrides, 'hydra.mode=RUN'] } : args, io);
}

/** `hydra.mode` as the config sets it (composed as for a sweep, so sweep overrides do not fail here). */
function configuredMode(args: CliArgs, io: CliIO): 'RUN' | 'MULTIRUN' | null {
  const { config } = composeFor(args, io, 'MULTIRUN');
  const m = isDict(config.hydra) ? config.hydra.mode : null;
  return m === 'RUN' || m === 'MULTIRUN' ? m : null;
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
