/**
 * onnxruntime-node as every session of ours gets it: with its usage telemetry off (telemetry.ts). Sessions
 * are created only after this module has run, so the setting is in place before onnxruntime reads it.
 */
import * as ort from 'onnxruntime-node';
import { keepOnnxRuntimeQuiet } from './telemetry.js';

keepOnnxRuntimeQuiet();

export { ort };
