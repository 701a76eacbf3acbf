/**
 * A bordered panel as rich's `Panel(…, expand=False)` draws it, which fusion_bench uses for
 * `print_function_call`: rounded corners, the title centred in the top border, one space of padding.
 */
export function bordered(text: string, title: string): string {
  const lines = text.split('\n');
  const inner = Math.max(...lines.map((l) => l.length), title.length + 2);
  const titled = ` ${title} `;
  const left = Math.floor((inner + 2 - titled.length) / 2);
  const top = `╭${'─'.repeat(left)}${titled}${'─'.repeat(inner + 2 - titled.length - left)}╮`;
  const body = lines.map((l) => `│ ${l.padEnd(inner)} │`);
  return [top, ...body, `╰${'─'.repeat(inner + 2)}╯`].join('\n') + '\n';
}

/** A value as Python's repr writes it (for config data: strings, numbers, booleans, None, lists, dicts). */
export function pyRepr(v: unknown, depth = 0): string {
  if (v === null || v === undefined) return 'None';
  if (v === true) return 'True';
  if (v === false) return 'False';
  if (typeof v === 'number') return Number.isInteger(v) ? String(v) : String(v).includes('e') || String(v).includes('.') ? String(v) : `${v}.0`;
  if (typeof v === 'string') return `'${v.replaceAll('\\', '\\\\').replaceAll("'", "\\'")}'`;
  if (depth > 6) return '...';
  if (Array.isArray(v)) return `[${v.map((x) => pyRepr(x, depth + 1)).join(', ')}]`;
  if (typeof v === 'object') {
    const num = (v as { valueOf(): unknown }).valueOf();
    if (typeof num === 'number') return pyRepr(num);
    return `{${Object.entries(v as Record<string, unknown>).map(([k, x]) => `${pyRepr(k)}: ${pyRepr(x, depth + 1)}`).join(', ')}}`;
  }
  return String(v);
}

/**
 * `target(k=v, …)`: on one line when short, else one argument per line, as a code formatter would
 * write the call.
 */
export function callText(target: string, kwargs: Record<string, unknown>, partial = false): string {
  const args = Object.entries(kwargs).map(([k, v]) => `${k}=${pyRepr(v)}`);
  const [fn, first] = partial ? ['functools.partial', [target]] : [target, []];
  const all = [...first, ...args];
  const one = `${fn}(${all.join(', ')})`;
  return one.length <= 88 ? one : `${fn}(\n${all.map((a) => `    ${a},`).join('\n')}\n)`;
}
