import { stringify } from 'yaml';

/**
 * The run's config as a tree, the way fusion_bench's print_config_tree shows it: the given keys first
 * (method → modelpool → taskpool), then the others, each as a branch holding its YAML.
 */
export function formatConfigTree(config: Record<string, unknown>, order: readonly string[]): string {
  const keys = [...order.filter((k) => k in config), ...Object.keys(config).filter((k) => !order.includes(k) && !k.startsWith('_'))];
  const lines = ['CONFIG'];
  keys.forEach((k, i) => {
    const last = i === keys.length - 1;
    const v = config[k];
    if (v === null || typeof v !== 'object') {
      lines.push(`${last ? '└──' : '├──'} ${k}: ${JSON.stringify(v)}`);
      return;
    }
    lines.push(`${last ? '└──' : '├──'} ${k}`);
    const body = stringify(v, { lineWidth: 0 }).trimEnd();
    for (const l of body.split('\n')) lines.push(`${last ? '    ' : '│   '}${l}`);
  });
  return lines.join('\n') + '\n';
}
