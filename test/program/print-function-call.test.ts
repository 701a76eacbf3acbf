/** print_function_call: each component the program builds is shown as the call fusion_bench prints. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bordered, callText, pyRepr } from '../../src/util/bordered.js';
import { FabricModelFusionProgram, type FusionProgramOptions } from '../../src/program/fusion-program.js';
import { createBuiltinRegistry } from '../../src/registry/builtins.js';
import { runContext } from '../../src/run-context.js';
import { Float } from '../../src/config/values.js';
import { isUserError } from '../../src/errors.js';

function sink() {
  const s = { text: '', write(c: string | Uint8Array) { s.text += String(c); return true; } };
  return s as unknown as NodeJS.WritableStream & { text: string };
}

test('Python reprs, calls, and rich-style panels', () => {
  assert.equal(pyRepr({ a: [1, 'x', null, true], b: 0.5 }), "{'a': [1, 'x', None, True], 'b': 0.5}");
  assert.equal(pyRepr(new Float(1)), '1');
  assert.equal(callText('m.F', { s: 0.5 }), 'm.F(s=0.5)');
  assert.equal(callText('m.F', { s: 0.5 }, true), 'functools.partial(m.F, s=0.5)');
  const long = callText('m.F', { a: 'x'.repeat(50), b: 'y'.repeat(50) });
  assert.equal(long, `m.F(\n    a='${'x'.repeat(50)}',\n    b='${'y'.repeat(50)}',\n)`);
  const panel = bordered('f(x=1)', 'T').split('\n');
  assert.equal(panel[0], '╭── T ───╮');
  assert.deepEqual(panel.slice(1, 3), ['│ f(x=1) │', '╰────────╯']);
});

test('the program prints the call of each component unless print_function_call is false', async () => {
  const options = (show?: unknown): FusionProgramOptions => ({
    method: { _target_: 'fusion_bench.method.DummyAlgorithm' },
    modelpool: { _target_: 'fusion_bench.modelpool.BaseModelPool', models: {} },
    taskpool: null,
    print_config: false,
    dry_run: true,
    ...(show === undefined ? {} : { print_function_call: show as boolean }),
  });
  const out = sink();
  // dry_run stops before the components are built: nothing to show
  await new FabricModelFusionProgram(options(), createBuiltinRegistry(), runContext({ status: null }), out).run();
  assert.equal(out.text, '');
  const shown = sink();
  const p = new FabricModelFusionProgram({ ...options(), dry_run: false, method: { _target_: 'fusion_bench.method.TaskArithmeticAlgorithm', scaling_factor: new Float(0.5) } }, createBuiltinRegistry(), runContext({ status: null }), shown);
  await assert.rejects(p.run(), /_pretrained_/);
  assert.match(shown.text, /Instantiate by calling class/);
  assert.match(shown.text, /│ fusion_bench\.modelpool\.BaseModelPool\(models=\{\}\) +│/);
  assert.match(shown.text, /│ fusion_bench\.method\.TaskArithmeticAlgorithm\(scaling_factor=0\.5\) +│/);
  const quiet = sink();
  await assert.rejects(new FabricModelFusionProgram({ ...options(false), dry_run: false, method: { _target_: 'fusion_bench.method.TaskArithmeticAlgorithm', scaling_factor: 0.5 } }, createBuiltinRegistry(), runContext({ status: null }), quiet).run());
  assert.equal(quiet.text, '');
  assert.throws(() => new FabricModelFusionProgram(options('yes'), createBuiltinRegistry(), runContext({ status: null }), sink()), (e) => isUserError(e) && /print_function_call: expected true or false/.test((e as Error).message));
});
