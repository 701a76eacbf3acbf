// Class names and prompt templates copied from fusion_bench (tanganke/fusion_bench 54c9e8c,
// fusion_bench/tasks/clip_classification/mongo_leaf_disease.py). Data, not code: `{c}` marks the class name.
import type { ClipClassificationData } from './types.js';

export const data: ClipClassificationData = {
  classnames: [
    "Anthracnose",
    "Bacterial Canker",
    "Cutting Weevil",
    "Die Back",
    "Gall Midge",
    "Healthy",
    "Powdery Mildew",
    "Sooty Mould",
  ],
  templates: [
    "a photo of a mango leaf with {c}.",
    "a mango leaf showing symptoms of {c}.",
    "a close-up photo of {c} on a mango leaf.",
    "this mango leaf is affected by {c}.",
    "a mango leaf disease identified as {c}.",
    "a {c} infection on a mango leaf.",
  ],
};
