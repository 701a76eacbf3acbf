/** Dataset loading: image-classification splits from local parquet, HF-layout folders and hub repos. */
export { loadImageClassificationDataset, type LoadDatasetOptions, type LoadDatasetDeps } from './load.js';
export {
  ImageClassificationDataset,
  type ImageClassificationExample,
  type ImageClassificationFeatures,
  type ImageClassificationOptions,
} from './image-classification.js';
export { hubClient, type DatasetHubClient, type DatasetRepo } from './hub-client.js';
export type { DataFilesSpec } from './data-files.js';
export { preprocessedBatches, type ImageBatch, type ImageBatchOptions } from './image-batches.js';
export { loadDatasetOptionsFromCall, fer2013OptionsFromCall, FER2013_TARGET } from './load-dataset-call.js';
