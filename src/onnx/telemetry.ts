/**
 * onnxruntime's usage telemetry, off unless the user's environment says otherwise.
 *
 * onnxruntime 1.30's Linux and macOS builds report usage to Microsoft (1DS; microsoft/onnxruntime#27379).
 * On a process's first session they write a device id and an event database under
 * ~/.cache/Microsoft/DeveloperTools/.onnxruntime, leave an empty /tmp/mat-debug-<pid>.log, and try to
 * upload. A research tool should not do that unasked, least of all on a cluster node or in CI. (Its cost
 * in time is within this VM's noise: a ViT-B/32 session's creation took a median 0.18 s either way, in 24
 * interleaved creations each.)
 *
 * `ORT_DISABLE_TELEMETRY=1` turns all of it off. onnxruntime reads it from the process's real environment
 * once, when the first session in any thread is created. A worker thread's `process.env` is its own
 * copy that native code never sees, so this must run on the main thread: when the module that creates
 * sessions loads, and before a thread that will create sessions starts. A user who set the variable, to
 * anything, keeps their choice.
 */
export const ORT_TELEMETRY_VARIABLE = 'ORT_DISABLE_TELEMETRY';

export function keepOnnxRuntimeQuiet(env: NodeJS.ProcessEnv = process.env): void {
  if (env[ORT_TELEMETRY_VARIABLE] === undefined) env[ORT_TELEMETRY_VARIABLE] = '1';
}
