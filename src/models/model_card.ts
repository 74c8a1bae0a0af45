/** Metadata cnnviz stores in model.json (userDefinedMetadata). */
export interface ModelCard {
  name?: string;
  dataset?: string;
  classNames?: string[];
  testAccuracy?: number;
  /** ImageNet models: each class's full description ('tabby, tabby cat'), whose synonyms also name it. */
  classDescriptions?: string[];
  title?: string;
  inputSize?: number[];
  source?: string;
  license?: string;
  [key: string]: unknown;
}
