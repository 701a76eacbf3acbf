// Class names and prompt templates copied from fusion_bench (tanganke/fusion_bench 54c9e8c,
// fusion_bench/tasks/clip_classification/kmnist.py). Data, not code: `{c}` marks the class name.
import type { ClipClassificationData } from './types.js';

export const data: ClipClassificationData = {
  classnames: [
    "お",
    "き",
    "す",
    "つ",
    "な",
    "は",
    "ま",
    "や",
    "れ",
    "を",
  ],
  templates: [
    "a photo of the character {c}.",
  ],
};
