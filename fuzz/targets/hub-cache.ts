/** The Hugging Face cache: refs/<revision> files, trees/<commit>.json listings, and snapshot paths from them. */
import fc from 'fast-check';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { pointerPath, readRef, readTreeCache, repoCache } from '../../src/hub/cache-layout.js';
import type { FuzzTarget } from '../harness.js';
import { clip, mutatedText } from '../mutate.js';
import { freshDir } from '../seeds.js';

const COMMIT = '0123456789abcdef0123456789abcdef01234567';
const TREE = JSON.stringify({
  format_version: 1,
  files: {
    'config.json': { size: 10, blob_id: 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa' },
    'model.safetensors': { size: 99, blob_id: 'bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb', lfs_sha256: 'c'.repeat(64), lfs_size: 99 },
    'sub/dir/x.txt': { size: 1, blob_id: 'dddddddddddddddddddddddddddddddddddddddd' },
  },
});
const TOKENS = ['../', '..', '/', '\\', '\u0000', '"', '{', '}', '[', ']', ':', ',', '__proto__', 'null', '-1', '1e308', 'main', 'refs/pr/1', COMMIT, 'g'.repeat(40), '\n'];

export interface HubCacheInput {
  revision: string;
  ref: string;
  tree: string;
}

export const hubCacheTarget: FuzzTarget<HubCacheInput> = {
  name: 'hub-cache',
  description: "a hub cache folder: readRef (refs/<revision>), readTreeCache (trees/<commit>.json), pointerPath of each listed file",
  arbitrary: () =>
    fc.record({
      revision: fc.oneof(fc.constantFrom('main', 'v1.0', 'refs/pr/1', COMMIT), mutatedText(['main', 'refs/pr/1'], TOKENS, 3)),
      ref: fc.oneof(fc.constant(COMMIT), mutatedText([COMMIT, `${COMMIT}\n`], TOKENS, 3)),
      tree: mutatedText([TREE], TOKENS),
    }),
  run(inp) {
    const hub = freshDir();
    const c = repoCache(hub, { repoId: 'org/name', repoType: 'model' });
    const refFile = join(c.storage, 'refs', 'main');
    mkdirSync(dirname(refFile), { recursive: true });
    writeFileSync(refFile, inp.ref);
    mkdirSync(join(c.storage, 'trees'), { recursive: true });
    writeFileSync(join(c.storage, 'trees', `${COMMIT}.json`), inp.tree);
    const commit = readRef(c, inp.revision);
    const listing = readTreeCache(c, commit ?? COMMIT);
    if (commit !== null && listing !== null) for (const name of listing.keys()) pointerPath(c, commit, name);
  },
  show: (i) => clip(JSON.stringify(i), 600),
};
