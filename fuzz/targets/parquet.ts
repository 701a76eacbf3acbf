/** Parquet shards: the footer, then row groups read through our validation and hyparquet. */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { openShard, readRowGroup } from '../../src/data/parquet-shard.js';
import type { FuzzTarget } from '../harness.js';
import { mutatedBytes, showBytes } from '../mutate.js';
import { freshDir, repoFile } from '../seeds.js';

/** A footer of `depth` thrift structs, each the first field of the one before (hyparquet recurses per level). */
export function nestedFooter(depth: number): Uint8Array {
  const out = new Uint8Array(4 + depth + 8);
  out.set([0x50, 0x41, 0x52, 0x31]);
  out.fill(0x1c, 4, 4 + depth); // field delta 1, type struct
  new DataView(out.buffer).setUint32(4 + depth, depth, true);
  out.set([0x50, 0x41, 0x52, 0x31], 8 + depth);
  return out;
}

function seeds(): Uint8Array[] {
  return [
    repoFile('test/fixtures/parquet/v1-snappy.parquet'), repoFile('test/fixtures/parquet/v2-snappy.parquet'), repoFile('demo/data/mnist/data/test-00000-of-00001.parquet'),
    nestedFooter(100_000),
  ];
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
