// Class names and prompt templates copied from fusion_bench (tanganke/fusion_bench 54c9e8c,
// fusion_bench/tasks/clip_classification/pcam.py). Data, not code: `{c}` marks the class name.
import type { ClipClassificationData } from './types.js';

export const data: ClipClassificationData = {
  classnames: [
    "lymph node",
    "lymph node containing metastatic tumor tissue",
  ],
  templates: [
    "this is a photo of {c}",
  ],
};
