/** What a task pool is to the program that evaluates with it: the contract lives here, with the task pools. */

/** Where a model or data set came from, for the run record: the configured path or repo id, and the commit. */
export interface RunInfoSource {
  source: string;
  revision: string | null;
}

export interface TaskPool {
  /** The report of one model, in fusion_bench's shape (tasks in config order, `average`, `model_info`). */
  evaluate(model: unknown): Promise<Record<string, unknown>> | Record<string, unknown>;
  /** What the run record says of the models and data sets the pool used (optional). */
  runInfo?(): Promise<{ models?: Record<string, RunInfoSource>; datasets?: Record<string, unknown> }>;
  /** The local files and folders the pool reads (its CLIP model, its data sets), which no output may overwrite. */
  inputPaths?(): { what: string; path: string }[];
}
