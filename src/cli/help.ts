import type { CliArgs } from './args.js';
import type { CliIO } from './main.js';
import { composeFor } from './commands.js';
import { formatConfigGroups, isHydraGroup } from '../config/groups.js';
import { resolveAt } from '../config/omegaconf/resolve.js';
import { toYaml } from '../config/omegaconf/dump.js';
import { resolveAll } from '../config/omegaconf/resolve.js';
import { type ConfigDict } from '../config/values.js';

/** Hydra's flags, as its argparse help lists them for `$FLAGS_HELP`. */
export const FLAGS_HELP = `--help,-h : Application's help
--hydra-help : Hydra's help
--version : Show fusion-bench's version and exit
--cfg,-c : Show config instead of running [job|hydra|all]
--resolve : Used in conjunction with --cfg, resolve config interpolations before printing.
--package,-p : Config package to show
--run,-r : Run a job
--multirun,-m : Run multiple jobs with the configured launcher and sweeper
--shell-completion,-sc : Install or Uninstall shell completion:
    Bash - Install:
    eval "$(fusion-bench -sc install=bash)"
    Bash - Uninstall:
    eval "$(fusion-bench -sc uninstall=bash)"
--config-path,-cp : Overrides the config_path (default: fusion-bench's own config folder).
                    The config_path is absolute or relative to the working directory
--config-name,-cn : Overrides the config_name (default: fabric_model_fusion)
--config-dir,-cd : Adds an additional config dir to the config search path
--info,-i : Print information [all|config|defaults|defaults-tree|plugins|searchpath|targets]
Overrides : Any key=value arguments to override config values (use dots for.nested=overrides)
`;

/** Python's string.Template.substitute: `$NAME` and `${NAME}` from `vars`, `$$` for a dollar. */
export function substituteTemplate(template: string, vars: Record<string, string>): string {
  return template.replace(/\$(?:(\$)|([A-Za-z_][A-Za-z0-9_]*)|\{([A-Za-z_][A-Za-z0-9_]*)\})/g, (m, dollar, name, braced) => {
    if (dollar) return '$';
    const key = name ?? braced;
    return key in vars ? vars[key] : m;
  });
}

/** `--help` (the app's help, hydra.help.template) and `--hydra-help` (hydra.hydra_help.template). */
export function showHelp(args: CliArgs, io: CliIO): number {
  const { config, repository } = composeFor(args, io, 'RUN');
  const hydra = config.hydra as ConfigDict;
  const key = args.hydraHelp ? 'hydra.hydra_help.template' : 'hydra.help.template';
  const template = resolveAt(config, key, { env: io.env, hydra });
  const job: ConfigDict = {};
  for (const k of Object.keys(config)) if (k !== 'hydra') job[k] = config[k];
  const cfgYaml = toYaml(args.resolve ? (resolveAll(job, { env: io.env, hydra }) as ConfigDict) : job);
  const text = substituteTemplate(String(template), {
    FLAGS_HELP,
    APP_CONFIG_GROUPS: formatConfigGroups(repository, (g) => !isHydraGroup(g)),
    HYDRA_CONFIG_GROUPS: formatConfigGroups(repository, (g) => g.startsWith('hydra/')),
    CONFIG: cfgYaml,
  });
  io.stdout.write(text.endsWith('\n') ? text : text + '\n');
  return 0;
}

