import * as fs from 'fs';
import * as path from 'path';
import { decodeImage, isImageFile, rgbaToFloat } from './images';
import type { RawDataset, Split } from './types';
import { fail } from '../common';

export interface FolderOptions {
  /** [height, width] every image is resized to; default: the first image's size. */
  size?: [number, number];
  channels?: 1 | 3;
}

function classDirs(root: string): string[] {
  return fs
    .readdirSync(root, { withFileTypes: true })
    .filter((d) => d.isDirectory())
    .map((d) => d.name)
    .sort();
}

/**
 * A folder of images, one subfolder per class (root/cat/1.png ...). If root has `train/` and
 * `test/` subfolders those are the splits; otherwise the whole folder is the split 'all'.
 */
export async function loadFolder(root: string, split: Split, opts: FolderOptions): Promise<RawDataset> {
  const hasSplits = fs.existsSync(path.join(root, 'train')) && fs.existsSync(path.join(root, 'test'));
  let roots: string[];
  if (hasSplits)
    roots = split === 'all' ? [path.join(root, 'train'), path.join(root, 'test')] : [path.join(root, split)];
  else if (split === 'all') roots = [root];
  else {
    fail(
      `datasets.load('${root}')`,
      `split '${split}' needs train/ and test/ subfolders, which this folder lacks; use ` +
        `split 'all' (valid here: all)`,
    );
  }
  const classNames = classDirs(roots[0]);
  const files: Array<{ file: string; label: number }> = [];
  for (const r of roots) {
    const here = classDirs(r);
    for (const name of here) {
      const label = classNames.indexOf(name);
      if (label < 0)
        fail(`datasets.load('${root}')`, `class folder '${name}' in ${r} is not among ${classNames.join(', ')}`);
      for (const f of fs.readdirSync(path.join(r, name)).sort()) {
        if (isImageFile(f)) files.push({ file: path.join(r, name, f), label });
      }
    }
  }
  if (classNames.length === 0 || files.length === 0) {
    fail(
      `datasets.load('${root}')`,
      `no images found; expected one subfolder per class holding PNG or JPEG files (e.g. ${root}/cat/1.png)`,
    );
  }
  const channels = opts.channels ?? 3;
  const first = await decodeImage(fs.readFileSync(files[0].file), files[0].file, opts.size);
  const [h, w] = [first.height, first.width];
  const decoded = [first];
  for (let i = 1; i < files.length; i++)
    decoded.push(await decodeImage(fs.readFileSync(files[i].file), files[i].file, [h, w]));
  return {
    name: path.basename(path.resolve(root)),
    height: h,
    width: w,
    channels,
    count: files.length,
    pixelsAt: (i, out, offset) => rgbaToFloat(decoded[i], channels, out, offset),
    labels: Int32Array.from(files.map((f) => f.label)),
    classNames,
  };
}
