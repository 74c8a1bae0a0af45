/**
 * The 1,000 ImageNet-1k classes: synset, WordNet lemma and a coarse WordNet group (dog, bird,
 * vehicle, ...), in the standard order (synsets sorted, MobileNet's class order), and Darknet's
 * order as synsets. The table is derived data, made by `derive_table.py` beside it from WordNet
 * 3.0 (Debian wordnet-base; WordNet 3.0 license, Princeton University) and Darknet's label list;
 * see the table's `about` and `license`.
 */
import { fail } from '../../common';
import table from './table.json';

export interface ImagenetClass {
  /** Index in the standard order (MobileNet's). */
  index: number;
  /** WordNet 3.0 noun synset, 'n' + 8-digit offset, e.g. 'n02504458'. */
  synset: string;
  /** WordNet's first lemma for it, e.g. 'African elephant'. */
  name: string;
  /** The coarse WordNet group it falls under (see IMAGENET_GROUPS). */
  group: string;
}

/** The groups, most specific first: a class belongs to the first one among its WordNet hypernyms. */
export const IMAGENET_GROUPS: readonly string[] = table.groups;

const CLASSES: readonly ImagenetClass[] = table.classes.map(([synset, name, group], index) => ({
  index,
  synset,
  name,
  group,
}));

/** The 1,000 classes in the standard order, each with its synset, WordNet name and group. */
export function imagenetClasses(): ImagenetClass[] {
  return CLASSES.map((c) => ({ ...c }));
}

/** Orders of class indices a model may use: its name -> synset of each of its outputs. */
const ORDERS: Record<string, readonly string[]> = {
  mobilenet: CLASSES.map((c) => c.synset),
  'darknet-tiny': table.darknet,
};
export const LABEL_ORDERS = Object.keys(ORDERS);

/**
 * For each standard index, the index of the same synset among the outputs of model `order`
 * ('mobilenet': itself; 'darknet-tiny': Darknet's order).
 */
export function labelMap(order: string, caller: string): Int32Array {
  const synsets = ORDERS[order];
  if (!synsets) fail(caller, `unknown labelsFor '${order}'; valid choices: ${LABEL_ORDERS.join(', ')}`);
  const at = new Map(synsets.map((s, i) => [s, i]));
  return Int32Array.from(CLASSES, (c) => at.get(c.synset) ?? -1);
}
