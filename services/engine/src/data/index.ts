// Datasets of the engine: readers (IDX, CIFAR-10 binary, NPY, built-in fashion-mnist), the seeded
// class-balanced ordering, and the training batch stream.
export type { ArrayDataset } from './dataset.ts';
export { copyImage, imagesOf, subset } from './dataset.ts';
export { datasetLoads, shareDatasets, type SharedDataset } from './shared-datasets.ts';
export { loadDataset, BUILTIN_DATASETS } from './load-dataset.ts';
export { BatchStream, CROP_PADDING, type BatchStreamState } from './batch-stream.ts';
