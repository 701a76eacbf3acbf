// Class names and prompt templates copied from fusion_bench (tanganke/fusion_bench 54c9e8c,
// fusion_bench/tasks/clip_classification/fashion_mnist.py). Data, not code: `{c}` marks the class name.
import type { ClipClassificationData } from './types.js';

export const data: ClipClassificationData = {
  classnames: [
    "T - shirt / top",
    "Trouser",
    "Pullover",
    "Dress",
    "Coat",
    "Sandal",
    "Shirt",
    "Sneaker",
    "Bag",
    "Ankle boot",
  ],
  templates: [
    "a photo of a {c}.",
    "a photo of the {c}.",
  ],
};
