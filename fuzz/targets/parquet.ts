/** Parquet shards: the footer, then row groups read through our validation and hyparquet. */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { openShard, readRowGroup } from '../../src/data/parquet-shard.js';
import type { FuzzTarget } from '../harness.js';
import { mutatedBytes, showBytes } from '../mutate.js';
import { freshDir, repoFile } from '../seeds.js';

function seeds(): Uint8Array[] {
  return [repoFile('test/fixtures/parquet/v1-snappy.parquet'), repoFile('test/fixtures/parquet/v2-snappy.parquet'), repoFile('demo/data/mnist/data/test-00000-of-00001.parquet')];
}

export const parquetTarget: FuzzTarget<Uint8Array> = {
  name: 'parquet',
  description: 'a parquet shard: openShard (footer, schema, row counts), then readRowGroup of its first row groups',
  arbitrary: () => mutatedBytes(seeds(), 4),
  async run(bytes) {
    const path = join(freshDir(), 'shard.parquet');
    writeFileSync(path, bytes);
    const shard = await openShard(path, 'fuzz dataset');
    const columns = [...shard.columns.keys()];
    for (let rg = 0; rg < Math.min(3, shard.rowGroupStarts.length - 1); rg++) await readRowGroup(shard, rg, columns, 'fuzz dataset');
  },
  show: showBytes,
};
