// Class names and prompt templates copied from fusion_bench (tanganke/fusion_bench 54c9e8c,
// fusion_bench/tasks/clip_classification/emnist_letters.py). Data, not code: `{c}` marks the class name.
import type { ClipClassificationData } from './types.js';

export const data: ClipClassificationData = {
  classnames: [
    "A",
    "B",
    "C",
    "D",
    "E",
    "F",
    "G",
    "H",
    "I",
    "J",
    "K",
    "L",
    "M",
    "N",
    "O",
    "P",
    "Q",
    "R",
    "S",
    "T",
    "U",
    "V",
    "W",
    "X",
    "Y",
    "Z",
  ],
  templates: [
    "a photo of the digit character: \"{c}\".",
  ],
};
