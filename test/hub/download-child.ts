// A separate process that downloads one file (for the lock tests). argv[2]: JSON {repoId, filename, env, waitForGo}.
// Prints `ready` once loaded; with waitForGo, starts when a line arrives on stdin; prints a JSON result line.
import { hfHubDownload } from '../../src/hub/download.js';

const args = JSON.parse(process.argv[2] ?? '{}') as { repoId: string; filename: string; env: Record<string, string>; waitForGo?: boolean };
process.stdout.write('ready\n');
if (args.waitForGo) {
  await new Promise<void>((resolve) => process.stdin.once('data', () => resolve()));
}
try {
  const path = await hfHubDownload({ repoId: args.repoId, filename: args.filename, env: args.env, quiet: true });
  process.stdout.write(JSON.stringify({ path }) + '\n');
} catch (e) {
  process.stdout.write(JSON.stringify({ error: (e as Error).message }) + '\n');
  process.exitCode = 1;
}
process.stdin.destroy();
