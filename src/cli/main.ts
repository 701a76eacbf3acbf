import { VERSION } from '../version.js';

export async function main(argv: string[]): Promise<number> {
  if (argv.includes('--version')) {
    process.stdout.write(`fusion-bench ${VERSION}\n`);
    return 0;
  }
  process.stderr.write('fusion-bench: not implemented yet\n');
  return 1;
}
