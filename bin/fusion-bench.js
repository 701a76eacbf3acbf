#!/usr/bin/env node
'use strict';
// Start-up matters (`--cfg job` should answer in well under 150 ms), so this file stays tiny, and it is
// CommonJS (bin/package.json), which node starts a little faster than an ES module. Commands that only
// compose a config run from one bundled file (scripts/bundle.mjs) with the parsed-config cache on; runs,
// sweeps and --info from the whole CLI's bundle (worker.cjs, with its code cache: 0.15–0.2 s less than
// loading dist/src's ~100 ES modules before a merge starts); a bundle that a later `tsc` has outdated
// leaves dist/src as compiled.
const { readFileSync, renameSync, statSync, writeFileSync, writeSync } = require('node:fs');
const { Script, constants: vmConstants } = require('node:vm');
const { join } = require('node:path');
const { createRequire } = require('node:module');
const { pathToFileURL } = require('node:url');

const argv = process.argv.slice(2);
const root = join(__dirname, '..');
const bundleDir = join(root, 'dist', 'src', '_bundle');

/** A bundle's manifest when every module it was built from is unchanged since; else null. */
function freshManifest(name = 'manifest.json') {
  if (process.env.FUSION_BENCH_NO_BUNDLE === '1') return null;
  try {
    const m = JSON.parse(readFileSync(join(bundleDir, name), 'utf8'));
    for (const [p, mtime, size] of m.inputs) {
      const s = statSync(`${root}/${p}`);
      if (s.mtimeMs !== mtime || s.size !== size) return null;
    }
    return m;
  } catch {
    return null;
  }
}

/**
 * Loads the CommonJS bundle with V8's code cache (cli.cjs.v8cache: compiled code of what a composition
 * runs, written after a run that found none or found it stale), which saves compiling it every start.
 * `grow`: also rewritten when this run compiled clearly more than the cache holds (the worker bundle's
 * cache may come from a worker that was stopped before its first job).
 */
function loadBundle(name = 'cli.cjs', grow = false) {
  const file = join(bundleDir, name);
  const cacheFile = `${file}.v8cache`;
  let cachedData;
  try {
    cachedData = readFileSync(cacheFile);
  } catch {
    cachedData = undefined;
  }
  const source = `(function (exports, require, module, __filename, __dirname) {${readFileSync(file, 'utf8')}\n})`;
  const script = new Script(source, {
    filename: file,
    cachedData,
    importModuleDynamically: vmConstants.USE_MAIN_CONTEXT_DEFAULT_LOADER,
  });
  if (cachedData === undefined || script.cachedDataRejected || grow) {
    process.once('beforeExit', () => {
      try {
        const data = script.createCachedData();
        if (cachedData !== undefined && !script.cachedDataRejected && data.length < cachedData.length * 1.1) return;
        const tmp = `${cacheFile}.${process.pid}.tmp`;
        writeFileSync(tmp, data);
        renameSync(tmp, cacheFile);
      } catch {
        // a read-only install: start without the cache
      }
    });
  }
  const module = { exports: {} };
  script.runInThisContext()(module.exports, createRequire(file), module, file, bundleDir);
  return module.exports;
}

/**
 * What the bundled commands print through: a blocking write to fd 1, which spares building
 * process.stdout (a pipe's stream loads a dozen modules). Anything unusual (a non-blocking pipe that
 * fills, a closed one) hands the rest, and all later output, to process.stdout as before.
 */
function directStdout() {
  let stream = null;
  return {
    write(chunk) {
      if (stream === null) {
        let buf = Buffer.from(chunk);
        try {
          while (buf.length > 0) buf = buf.subarray(writeSync(1, buf));
          return true;
        } catch {
          stream = process.stdout;
          chunk = buf;
        }
      }
      return stream.write(chunk);
    },
  };
}

/** A process a launcher started: a joblib pool worker (src/hydra/pool-worker.ts), a submitit or Slurm job (src/hydra/launched-job.ts). */
function launchedProcess() {
  const env = process.env;
  return env.FUSION_BENCH_POOL_WORKER === '1' || !!env.FUSION_BENCH_LAUNCHED_JOB;
}

/**
 * worker.cjs, the whole CLI in one bundle: what a launched process runs (its start-up is paid per worker
 * or per job), and a run, sweep or --info at the shell. Null when that bundle is absent, stale or broken.
 */
function workerEntry() {
  const manifest = freshManifest('worker-manifest.json');
  if (manifest === null) return null;
  let b;
  try {
    b = loadBundle('worker.cjs', true);
  } catch {
    return null; // replaced by a build under way: run dist/src
  }
  return { manifest, cache: b, main: b.main };
}

async function entry() {
  const w = launchedProcess() ? workerEntry() : null;
  let manifest = w === null ? freshManifest() : w.manifest;
  let cache = w === null ? null : w.cache;
  let main = w === null ? null : w.main;
  if (manifest !== null && main === null) {
    let b = null;
    try {
      b = loadBundle();
    } catch {
      // replaced by a build under way: run dist/src
    }
    const whole = b !== null && !b.servesArgs(argv) ? workerEntry() : null;
    if (whole !== null) {
      ({ manifest, cache, main } = whole);
    } else if (b !== null && b.servesArgs(argv)) {
      cache = b;
      const io = {
        stdout: directStdout(),
        get stderr() {
          return process.stderr;
        },
        env: process.env,
        cwd: process.cwd(),
      };
      main = (args) => b.main(args, io);
    }
  }
  if (main === null) {
    main = (await import(pathToFileURL(join(root, 'dist', 'src', 'cli', 'main.js')).href)).main;
    if (manifest !== null) cache = await import(pathToFileURL(join(root, 'dist', 'src', 'config', 'yaml-cache.js')).href);
  }
  if (cache !== null) {
    const user = cache.userYamlCacheDir(process.env);
    const readDirs = [join(bundleDir, 'yaml-cache')];
    if (user !== null) readDirs.push(user);
    cache.enableYamlCache({ salt: manifest.salt, readDirs, writeDir: user }, process.env);
  }
  return main;
}

entry()
  .then((main) => main(argv))
  .then(
    (code) => { process.exitCode = code; },
    (err) => { console.error(err?.stack ?? String(err)); process.exitCode = 1; },
  );
