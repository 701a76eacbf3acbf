/**
 * `loadImageClassificationDataset`, named and parameterised like `datasets.load_dataset`:
 *   {path: 'parquet', data_files}      local parquet files (a pattern, a list, or patterns by split)
 *   {path: '/local/folder', name?}     a folder in the Hugging Face layout (card configs, data/…, <config>/…, <split>/…)
 *   {path: 'owner/name', name?, revision?}  a dataset repo on the hub (through src/hub), e.g. ylecun/mnist
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { isAbsolute, join, relative, resolve, sep } from 'node:path';
import { UserError } from '../errors.js';
import { own } from '../util/own.js';
import { dataFilesBySplit, globToRegExp, matchFiles, parseDatasetCard, resolveSplitFiles, type DataFilesSpec, type DatasetCard } from './data-files.js';
import { ImageClassificationDataset } from './image-classification.js';
import { hubClient, type DatasetHubClient } from './hub-client.js';

export interface LoadDatasetOptions {
  path: string;
  name?: string;
  split: string;
  data_files?: DataFilesSpec;
  /** Base folder for relative `data_files` (datasets' `data_dir`); default the working directory. */
  data_dir?: string;
  revision?: string;
  imageColumn?: string;
  labelColumn?: string;
}

export interface LoadDatasetDeps {
  /** The hub client for repo ids (default: src/hub). */
  hub?: DatasetHubClient;
  /** Where relative local paths are resolved (default process.cwd()). */
  cwd?: string;
}

export async function loadImageClassificationDataset(opts: LoadDatasetOptions, deps: LoadDatasetDeps = {}): Promise<ImageClassificationDataset> {
  const cwd = deps.cwd ?? process.cwd();
  const what = describe(opts);
  const dsOpts = { name: what, imageColumn: opts.imageColumn, labelColumn: opts.labelColumn };
  if (opts.path === 'parquet') {
    if (opts.data_files === undefined) throw new UserError(`${what}: the 'parquet' builder needs data_files`);
    const base = resolve(cwd, opts.data_dir ?? '.');
    const files = splitPatterns(opts.data_files, opts.split, what).flatMap((p) => expandLocalPattern(base, p, what));
    return ImageClassificationDataset.fromParquetFiles(files, dsOpts);
  }
  const local = resolve(cwd, opts.path);
  if (existsSync(local) && statSync(local).isDirectory()) {
    const root = opts.data_dir ? resolve(local, opts.data_dir) : local;
    let chosen: string[];
    let card: DatasetCard | null = null;
    if (opts.data_files !== undefined) {
      chosen = splitPatterns(opts.data_files, opts.split, what).flatMap((p) => expandLocalPattern(root, p, what));
    } else {
      // The card's patterns are relative to the dataset root, so they apply only without data_dir.
      const readme = join(local, 'README.md');
      card = !opts.data_dir && existsSync(readme) ? parseDatasetCard(readFileSync(readme, 'utf8'), what) : null;
      chosen = resolveSplitFiles(walk(root), card, opts.name, opts.split, what).files.map((f) => join(root, f));
    }
    return ImageClassificationDataset.fromParquetFiles(chosen, { ...dsOpts, labelNames: cardLabelNames(card, opts.name) });
  }
  if (existsSync(local) && local.endsWith('.parquet')) {
    return ImageClassificationDataset.fromParquetFiles([local], dsOpts);
  }
  if (!/^[\w.-]+(\/[\w.-]+)?$/.test(opts.path)) {
    throw new UserError(`${what}: '${opts.path}' is neither a local folder nor a dataset repo id (owner/name)`);
  }
  return loadFromHub(opts, deps.hub ?? hubClient(), what, dsOpts);
}

const PARQUET_EXPORT = 'refs/convert/parquet';

async function loadFromHub(
  opts: LoadDatasetOptions,
  hub: DatasetHubClient,
  what: string,
  dsOpts: { name: string; imageColumn: string | undefined; labelColumn: string | undefined },
): Promise<ImageClassificationDataset> {
  let repo = { repoId: opts.path, revision: opts.revision };
  let files = await hub.listRepoFiles(repo);
  const hasData = files.some((f) => f.endsWith('.parquet'));
  if (!hasData && opts.revision === undefined && opts.data_files === undefined) {
    // A repo without parquet data (a loading-script dataset): the hub's parquet export, laid out as
    // <config>/<split>/NNNN.parquet, as datasets falls back to.
    repo = { repoId: opts.path, revision: PARQUET_EXPORT };
    files = await hub.listRepoFiles(repo);
    const config = opts.name ?? 'default';
    // Truncated exports ("partial-<split>") are left out: they would silently evaluate a subset.
    const chosen = matchFiles(files, [`${config}/${opts.split}/*.parquet`]);
    if (chosen.length === 0) throw new UserError(`${what}: the repo has no parquet data, and its parquet export (${PARQUET_EXPORT}) has no '${config}/${opts.split}/' files`);
    const paths: string[] = [];
    for (const f of chosen) paths.push(await hub.download({ ...repo, filename: f }));
    return ImageClassificationDataset.fromParquetFiles(paths, dsOpts);
  }
  let card: DatasetCard | null = null;
  if (files.includes('README.md')) card = parseDatasetCard(readFileSync(await hub.download({ ...repo, filename: 'README.md' }), 'utf8'), what);
  let chosen: string[];
  if (opts.data_files !== undefined) {
    const patterns = splitPatterns(opts.data_files, opts.split, what);
    chosen = matchFiles(files, patterns);
    if (chosen.length === 0) throw new UserError(`${what}: no file of the repo matches ${patterns.join(', ')}`);
  } else {
    chosen = resolveSplitFiles(files, card, opts.name, opts.split, what).files;
  }
  const nonParquet = chosen.filter((f) => !f.endsWith('.parquet'));
  if (nonParquet.length > 0) throw new UserError(`${what}: only parquet data files are supported, not ${nonParquet.slice(0, 3).join(', ')}`);
  const paths: string[] = [];
  for (const f of chosen) paths.push(await hub.download({ ...repo, filename: f }));
  return ImageClassificationDataset.fromParquetFiles(paths, { ...dsOpts, labelNames: cardLabelNames(card, opts.name) });
}

/** The patterns `data_files` gives for the split. */
function splitPatterns(spec: DataFilesSpec, split: string, what: string): string[] {
  const bySplit = dataFilesBySplit(spec, what);
  const patterns = own(bySplit, split);
  if (!patterns) throw new UserError(`${what}: data_files has no split '${split}' (it has ${Object.keys(bySplit).map((s) => `'${s}'`).join(', ')})`);
  return patterns;
}

function cardLabelNames(card: DatasetCard | null, name: string | undefined): string[] | undefined {
  if (!card) return undefined;
  return card.labelNames.get(name ?? '') ?? (card.labelNames.size === 1 ? [...card.labelNames.values()][0] : undefined);
}

function describe(o: LoadDatasetOptions): string {
  const parts = [o.name ? `${o.path}/${o.name}` : o.path, `split ${o.split}`];
  if (o.revision) parts.push(`revision ${o.revision}`);
  return `dataset ${parts[0]} (${parts.slice(1).join(', ')})`;
}

/** All files under root, as `/`-separated relative paths (hidden folders skipped). */
function walk(root: string): string[] {
  const out: string[] = [];
  const visit = (dir: string): void => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      if (e.name.startsWith('.')) continue;
      const p = join(dir, e.name);
      if (e.isDirectory()) visit(p);
      else if (e.isFile() || e.isSymbolicLink()) out.push(relative(root, p).split(sep).join('/'));
    }
  };
  visit(root);
  return out.sort();
}

/** A local path or glob (relative to base, or absolute) → the existing files it names. */
function expandLocalPattern(base: string, pattern: string, what: string): string[] {
  const abs = isAbsolute(pattern) ? pattern : join(base, pattern);
  if (!/[*?[]/.test(pattern)) {
    if (!existsSync(abs)) throw new UserError(`${what}: data file ${abs} does not exist`);
    if (statSync(abs).isDirectory()) return walk(abs).filter((f) => f.endsWith('.parquet')).map((f) => join(abs, f));
    return [abs];
  }
  // Walk from the deepest folder without glob characters.
  const parts = abs.split(sep);
  const firstGlob = parts.findIndex((p) => /[*?[]/.test(p));
  const dir = parts.slice(0, firstGlob).join(sep) || sep;
  const rest = parts.slice(firstGlob).join('/');
  if (!existsSync(dir)) throw new UserError(`${what}: no files match ${abs} (folder ${dir} does not exist)`);
  const re = globToRegExp(rest);
  const found = walk(dir).filter((f) => re.test(f)).map((f) => join(dir, f));
  if (found.length === 0) throw new UserError(`${what}: no files match ${abs}`);
  return found;
}
