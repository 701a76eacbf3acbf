/**
 * What a sweep has submitted to Slurm (`<sweep dir>/.submitit/submissions.json`): each array, the job of
 * each of its tasks and that job's overrides. A later run of the same sweep finds there the tasks it may
 * still wait for instead of submitting their jobs again.
 */
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { writeFileAtomic } from '../../util/atomic-write.js';

export interface Submission {
  array_id: string;
  /** Job number of each array task, by task id. */
  jobs: number[];
  /** Each task's overrides: a later run waits for a queued task only when its job is still the same. */
  overrides?: string[][];
  submitit_folder: string;
}

export class Submissions {
  readonly file: string;

  constructor(sweepDir: string) {
    this.file = join(sweepDir, '.submitit', 'submissions.json');
  }

  all(): Submission[] {
    if (!existsSync(this.file)) return [];
    try {
      const s = JSON.parse(readFileSync(this.file, 'utf8')) as Submission[];
      return Array.isArray(s) ? s : [];
    } catch {
      return [];
    }
  }

  record(s: Submission): void {
    mkdirSync(dirname(this.file), { recursive: true });
    writeFileAtomic(this.file, JSON.stringify([...this.all(), s], null, 1) + '\n');
  }

  /** The latest array task submitted for each job number, with the overrides it ran. */
  latestByJob(): Map<number, { arrayId: string; task: number; overrides: string[] | undefined }> {
    const latest = new Map<number, { arrayId: string; task: number; overrides: string[] | undefined }>();
    for (const s of this.all()) s.jobs.forEach((num, task) => latest.set(num, { arrayId: s.array_id, task, overrides: s.overrides?.[task] }));
    return latest;
  }
}
