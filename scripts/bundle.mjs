/**
 * Build step after `tsc` (npm run build): makes `fusion-bench` start fast.
 *
 * 1. Bundles the command line's start-up path (argument parsing, composition, `--cfg`, `--help`, shell
 *    completion) from dist/src into one CommonJS file, dist/src/_bundle/cli.cjs: resolving and loading ~40 modules
 *    costs more than composing the config. Runs and sweeps (methods, onnxruntime, parquet) and `--info` (the
 *    registry) stay outside it: bin/fusion-bench.js sends those commands to dist/src/cli/main.js.
 * 2. Writes manifest.json next to it: every input with its mtime and size, so the binary can tell a bundle
 *    that a later `tsc` has outdated (and then falls back to dist/src), and the loader's salt.
 * 3. Prebuilds the parsed-config cache (src/config/yaml-cache.ts) for the package's own config/ and
 *    hydra-conf/, in dist/src/_bundle/yaml-cache/.
 * 4. Runs one composition through the binary, which writes V8's code cache for the bundle.
 * 5. Bundles the whole CLI again, runs included, as dist/src/_bundle/worker.cjs (with worker-manifest.json):
 *    what a joblib pool worker starts from (its V8 code cache is written by the first worker that ends).
 *
 * esbuild comes from node_modules (installed as tsx's dependency). Without it this step only warns: the
 * binary then runs dist/src as compiled, just slower to start.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

let build;
try {
  ({ build } = await import('esbuild'));
} catch {
  console.warn('bundle: esbuild is not installed; fusion-bench will start from dist/src (slower)');
  process.exit(0);
}

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const distSrc = join(root, 'dist', 'src');
const finalDir = join(distSrc, '_bundle');
// Built beside the live folder and swapped in at the end: a binary starting meanwhile sees a whole
// bundle or none (and then runs dist/src). Same depth as _bundle, so relative imports hold.
const outDir = join(distSrc, `_bundle.tmp-${process.pid}`);

/** Modules left out of the bundle, as paths under dist/src: the heavy commands. */
const LEFT_OUT = ['program/', 'cli/info.js', 'registry/'];

// Salt for parsed-config cache keys: the compiled loader and the yaml package's version. A build whose
// loader reads YAML differently never meets an older build's entries.
const LOADER_FILES = ['config/omegaconf/yaml.js', 'config/omegaconf/scalars.js', 'config/values.js', 'errors.js', 'config/yaml-cache.js'];
const salt = (() => {
  const h = createHash('sha1');
  for (const f of LOADER_FILES) h.update(f).update('\0').update(readFileSync(join(distSrc, f)));
  h.update(JSON.parse(readFileSync(join(root, 'node_modules', 'yaml', 'package.json'), 'utf8')).version);
  return h.digest('hex').slice(0, 16);
})();

rmSync(outDir, { recursive: true, force: true });
mkdirSync(outDir, { recursive: true });

const entry = `
export { main } from '../cli/main.js';
export { enableYamlCache, userYamlCacheDir } from '../config/yaml-cache.js';
import { parseArgs } from '../cli/args.js';
/** Whether this bundle runs the command (the rest goes to dist/src/cli/main.js). */
export function servesArgs(argv) {
  let a;
  try {
    a = parseArgs(argv);
  } catch {
    return false; // dist/src reports the error
  }
  if (a.info !== null) return false;
  return a.version || a.cfg !== null || a.help || a.hydraHelp || a.shellCompletion !== null;
}
`;

const leaveOut = {
  name: 'leave-out-heavy-commands',
  setup(b) {
    b.onResolve({ filter: /^\.\.?\// }, (args) => {
      const abs = resolve(args.resolveDir, args.path);
      const rel = relative(distSrc, abs).split(sep).join('/');
      if (!LEFT_OUT.some((p) => rel.startsWith(p))) return undefined;
      // Same module file as dist/src would load, addressed from the bundle's folder.
      return { path: relative(outDir, abs).split(sep).join('/').replace(/^(?!\.)/, './'), external: true };
    });
  },
};

/** What both bundles share: one CommonJS file for node 20. */
const common = {
  bundle: true,
  platform: 'node',
  // CommonJS: require() of one file and of node's built-ins is cheaper than ESM's module jobs.
  format: 'cjs',
  target: 'node20',
  define: { 'import.meta.url': '__bundleUrl' },
  banner: { js: 'const __bundleUrl = require("node:url").pathToFileURL(__filename).href;' },
  packages: 'bundle',
  // Whitespace and syntax minified (~10 ms less to start under load); names kept, so stacks still name functions.
  minifyWhitespace: true,
  minifySyntax: true,
  // Error classes are told apart by name (Hydra's error names are printed).
  keepNames: true,
  legalComments: 'none',
  metafile: true,
  logLevel: 'warning',
};

const result = await build({
  ...common,
  stdin: { contents: entry, resolveDir: outDir, sourcefile: 'cli-entry.js', loader: 'js' },
  outfile: join(outDir, 'cli.cjs'),
  // `yaml` is loaded lazily with require() (only on a cache miss); onnxruntime & co. are never reached.
  external: ['yaml'],
  plugins: [leaveOut],
});

/** The bundle's inputs (its entry excepted) with their mtime and size, as bin/fusion-bench.js checks them. */
const inputsOf = (meta, entryFile) => Object.keys(meta.inputs)
  .map((p) => resolve(root, p))
  .filter((abs) => abs !== join(outDir, entryFile))
  .map((abs) => {
    const s = statSync(abs);
    return [relative(root, abs).split(sep).join('/'), s.mtimeMs, s.size];
  });
const inputs = inputsOf(result.metafile, 'cli-entry.js');

// 5. The joblib worker's bundle (worker.cjs): the whole CLI, runs included, for the pool workers
// (src/hydra/pool-worker.ts) that bin/fusion-bench.js starts from it. A worker's start is on a local
// sweep's critical path, and one CommonJS file with V8's code cache loads in a fraction of the time the
// ~300 ES modules of dist/src take. Only onnxruntime (a native addon found beside its package) stays
// outside; `yaml` is bundled too (data files and config trees import it up front: its ~70 CommonJS files
// took longer to load than the rest), and the config loader's lazy require() still finds the package.
// Each module of the worker bundle keeps its own import.meta.url (the file it was compiled to), so that
// what it resolves beside itself — the preprocessing thread's script, the package root — is found.
const ownImportMetaUrl = {
  name: 'own-import-meta-url',
  setup(b) {
    b.onLoad({ filter: /\.js$/ }, (args) => {
      if (!args.path.startsWith(distSrc + sep)) return undefined;
      const text = readFileSync(args.path, 'utf8');
      if (!text.includes('import.meta.url')) return undefined;
      const rel = relative(outDir, args.path).split(sep).join('/');
      return { contents: text.replaceAll('import.meta.url', `new URL(${JSON.stringify(rel)}, __bundleUrl).href`), loader: 'js' };
    });
  },
};

const worker = await build({
  ...common,
  plugins: [ownImportMetaUrl],
  stdin: { contents: `export { main } from '../cli/main.js';\nexport { enableYamlCache, userYamlCacheDir } from '../config/yaml-cache.js';\n`, resolveDir: outDir, sourcefile: 'worker-entry.js', loader: 'js' },
  outfile: join(outDir, 'worker.cjs'),
  external: ['onnxruntime-node'],
});
const workerInputs = inputsOf(worker.metafile, 'worker-entry.js');

// Prebuilt parsed-config cache, written with the compiled loader itself.
const { loadYaml } = await import(pathToFileURL(join(distSrc, 'config', 'omegaconf', 'yaml.js')).href);
const { yamlCacheKey, writeEntry } = await import(pathToFileURL(join(distSrc, 'config', 'yaml-cache.js')).href);
const cacheDir = join(outDir, 'yaml-cache');
mkdirSync(cacheDir, { recursive: true });
let cached = 0;
let failed = 0;
for (const top of ['config', 'hydra-conf']) {
  for (const file of walkYaml(join(root, top))) {
    const text = readFileSync(file, 'utf8');
    let value;
    try {
      value = loadYaml(text, file);
    } catch {
      failed++; // a broken file is parsed (and reported) at run time
      continue;
    }
    if (writeEntry(cacheDir, yamlCacheKey(text, salt), value)) cached++;
  }
}

// The salt names the yaml package's version: a reinstall outdates the bundle (and its cache) too.
for (const p of ['node_modules/yaml/package.json']) {
  const s = statSync(join(root, p));
  inputs.push([p, s.mtimeMs, s.size]);
}
const manifest = { salt, inputs };
writeFileSync(join(outDir, 'manifest.json'), JSON.stringify(manifest));
writeFileSync(join(outDir, 'worker-manifest.json'), JSON.stringify({ salt, inputs: [...workerInputs, ...inputs.filter(([p]) => p.startsWith('node_modules/yaml/'))] }));
rmSync(finalDir, { recursive: true, force: true });
renameSync(outDir, finalDir);

// One composition through the binary writes V8's code cache for the bundle (cli.cjs.v8cache).
const prime = spawnSync(
  process.execPath,
  [join(root, 'bin', 'fusion-bench.js'), '--config-name', 'fabric_model_fusion', '--cfg', 'job', 'modelpool=CLIPVisionModelPool/clip-vit-base-patch32_TA8', 'method=task_arithmetic'],
  // Every package config is in the prebuilt cache, so this run writes nothing to the user's cache.
  { cwd: root, encoding: 'utf8', env: { ...process.env, FUSION_BENCH_NO_CACHE: '', FUSION_BENCH_NO_BUNDLE: '' } },
);
if (prime.status !== 0) console.warn(`bundle: priming run failed (exit ${prime.status}): ${prime.stderr.slice(0, 500)}`);

const bytes = statSync(join(finalDir, 'cli.cjs')).size;
const workerBytes = statSync(join(finalDir, 'worker.cjs')).size;
console.log(`bundle: dist/src/_bundle/cli.cjs (${inputs.length - 1} modules, ${(bytes / 1024).toFixed(0)} KiB), worker.cjs (${workerInputs.length} modules, ${(workerBytes / 1024).toFixed(0)} KiB); yaml cache: ${cached} configs${failed ? `, ${failed} unparsable skipped` : ''}`);

function* walkYaml(dir) {
  let entries;
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return;
  }
  for (const d of entries) {
    const p = join(dir, d.name);
    if (d.isDirectory()) yield* walkYaml(p);
    else if (d.name.endsWith('.yaml')) yield p;
  }
}
