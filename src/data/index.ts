export { load, list, DATASET_NAMES } from './datasets';
export type { LoadOptions } from './datasets';
export type { Dataset, Split } from './types';
export { parseIdx, encodeIdx } from './idx';
export { MNIST_CLASSES } from './mnist';
export { FASHION_CLASSES, fashionSearchDirs } from './fashion';
export { CIFAR10_CLASSES } from './cifar';
