// Class names and prompt templates copied from fusion_bench (tanganke/fusion_bench 54c9e8c,
// fusion_bench/tasks/clip_classification/fer2013.py). Data, not code: `{c}` marks the class name.
import type { ClipClassificationData } from './types.js';

export const data: ClipClassificationData = {
  classnames: [
    "angry",
    "disgusted",
    "fearful",
    "happy",
    "neutral",
    "sad",
    "surprised",
  ],
  templates: [
    "a photo of a {c} looking face.",
    "a photo of a face showing the emotion: {c}.",
    "a photo of a face looking {c}.",
    "a face that looks {c}.",
    "they look {c}.",
    "look at how {c} they are.",
  ],
};
