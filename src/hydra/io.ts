/**
 * What Hydra's runner is given: where to write (stdout, stderr), the environment and working folder, and
 * which config to compose (`ComposeRequest`, what `--config-path/-name/-dir` and the overrides say). The
 * command line builds these; nothing here knows the command line.
 */
export interface AppIO {
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
  env: NodeJS.ProcessEnv;
  cwd: string;
}

export interface ComposeRequest {
  /** `--config-path`: the primary config folder (relative to cwd); null: this package's `config/`. */
  configPath: string | null;
  /** `--config-name`; null: `fabric_model_fusion`. */
  configName: string | null;
  /** `--config-dir`: one more folder on the search path. */
  configDir: string | null;
  /** The overrides in command-line order. */
  overrides: readonly string[];
}
