import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createProgress, formatBytes, formatDuration } from '../../src/util/progress.js';

function sink(isTTY: boolean) {
  const out: string[] = [];
  return { out, stream: { isTTY, columns: 200, write: (s: string) => out.push(s) } };
}

test('on a terminal the line is redrawn in place, throttled, with percentage, rate and a final newline', () => {
  let t = 0;
  const s = sink(true);
  const p = createProgress({ label: 'model.safetensors', total: 2_000_000, stream: s.stream, now: () => t, redrawMs: 100 });
  t = 50;
  p.add(500_000);
  t = 60;
  p.add(10); // within redrawMs: not drawn
  t = 1000;
  p.add(499_990);
  p.finish();
  p.finish();
  assert.equal(s.out.length, 4, s.out.join('|'));
  assert.ok(s.out.slice(0, 3).every((l) => l.startsWith('\r')));
  assert.match(s.out[1] as string, /model\.safetensors:  50% \[#{10}\.{10}\] 1\.00 MB \/ 2\.00 MB, 1\.00 MB\/s, 1s, ETA 1s/);
  assert.equal(s.out[3], '\n');
});

test('elsewhere one plain line at the end (and one per plainEveryMs); counts in other units; quiet prints nothing', () => {
  let t = 0;
  const s = sink(false);
  const p = createProgress({ label: 'eval svhn', unit: 'images', stream: s.stream, now: () => t, plainEveryMs: 1000 });
  t = 500;
  p.add(100);
  t = 1500;
  p.add(100);
  t = 2000;
  p.finish();
  assert.deepEqual(s.out, ['eval svhn: 200 images, 133 images/s, 2s\n', 'eval svhn: 200 images, 100 images/s, 2s\n']);
  const q = sink(true);
  const quiet = createProgress({ label: 'x', total: 10, stream: q.stream, quiet: true });
  quiet.add(5);
  quiet.finish();
  assert.deepEqual(q.out, []);
  assert.equal(quiet.done, 5);
});

test('formatting of sizes and durations', () => {
  assert.equal(formatBytes(999), '999 B');
  assert.equal(formatBytes(1234), '1.23 kB');
  assert.equal(formatBytes(605_000_000), '605 MB');
  assert.equal(formatDuration(59.4), '59s');
  assert.equal(formatDuration(125), '2m05s');
  assert.equal(formatDuration(3720), '1h02m');
});
