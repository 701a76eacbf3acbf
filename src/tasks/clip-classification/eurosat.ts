// Class names and prompt templates copied from fusion_bench (tanganke/fusion_bench 54c9e8c,
// fusion_bench/tasks/clip_classification/eurosat.py). Data, not code: `{c}` marks the class name.
import type { ClipClassificationData } from './types.js';

export const data: ClipClassificationData = {
  classnames: [
    "annual crop land",
    "forest",
    "brushland or shrubland",
    "highway or road",
    "industrial buildings or commercial buildings",
    "pasture land",
    "permanent crop land",
    "residential buildings or homes or apartments",
    "river",
    "lake or sea",
  ],
  templates: [
    "a centered satellite photo of {c}.",
    "a centered satellite photo of a {c}.",
    "a centered satellite photo of the {c}.",
  ],
};
