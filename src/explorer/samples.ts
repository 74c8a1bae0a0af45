/**
 * Sample photos offered on the page: the named sample photos of `images.sample` when the data
 * folder has them, each read as file bytes so the server prepares them like an upload.
 */
import * as fs from 'fs';
import * as images from '../data/images';

export interface Sample {
  name: string;
  /** the file's bytes (PNG or JPEG) */
  bytes: () => Promise<Buffer>;
}

interface SampleSource {
  sampleNames?: () => string[];
  samplePath?: (name: string) => string;
}

/** The samples the data folder holds (none when the package offers no sample photos). */
export function defaultSamples(): Sample[] {
  const src = images as unknown as SampleSource;
  if (typeof src.sampleNames !== 'function' || typeof src.samplePath !== 'function') return [];
  const out: Sample[] = [];
  for (const name of src.sampleNames()) {
    let file: string;
    try {
      file = src.samplePath(name);
    } catch {
      continue;
    }
    if (fs.existsSync(file)) out.push({ name, bytes: async () => fs.readFileSync(file) });
  }
  return out;
}

/** Samples from files: { name: path }. */
export function fileSamples(files: Record<string, string>): Sample[] {
  return Object.entries(files).map(([name, file]) => ({ name, bytes: async () => fs.readFileSync(file) }));
}
