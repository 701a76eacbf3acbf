/** What the Slurm launcher reads from sbatch, scontrol, squeue and sacct (the cluster's words, not ours). */
import { parseMaxArraySize, parseSacctStates, parseSbatchId, parseSqueueStates } from '../../src/hydra/slurm/parse.js';
import type { FuzzTarget } from '../harness.js';
import { clip, mutatedText } from '../mutate.js';

const SEEDS = [
  '1234\n',
  '1234;cluster\n',
  'MaxArraySize            = 1001\nMaxJobCount = 10000\n',
  '1234_0|PENDING|None\n1234_1|RUNNING|None\n1234_2|COMPLETED|None\n',
  '1234_0|COMPLETED\n1234_1|CANCELLED by 0\n1234_2|OUT_OF_MEMORY\n',
];
const TOKENS = ['|', '_', '\n', ';', '1234', '99999999999999999999', '-1', '=', ' ', 'FAILED', '__proto__', 'constructor', ''.padEnd(300, '9')];

export const slurmOutputTarget: FuzzTarget<string> = {
  name: 'slurm-output',
  description: 'sbatch --parsable, scontrol show config, squeue %i|%T|%r and sacct JobID|State outputs, parsed for array 1234',
  arbitrary: () => mutatedText(SEEDS, TOKENS),
  run(text) {
    try {
      parseSbatchId(text, 'job.sh');
    } finally {
      parseMaxArraySize(text);
      for (const [task, s] of parseSqueueStates(text, '1234')) if (!Number.isSafeInteger(task) || typeof s.state !== 'string') throw new Error(`bad task ${task}`);
      for (const [task] of parseSacctStates(text, '1234')) if (!Number.isSafeInteger(task)) throw new Error(`bad task ${task}`);
    }
  },
  show: (t) => JSON.stringify(clip(t)),
};
