// The cnnviz package's root folder, found from this file (src/common or build/src/common).
import * as fs from 'fs';
import * as path from 'path';
import { fail } from './errors';

let found: string | null | undefined;

/** The folder of cnnviz's package.json, or null when this file is not inside the package. */
export function findPackageRoot(): string | null {
  if (found !== undefined) return found;
  let dir = __dirname;
  found = null;
  for (let i = 0; i < 6; i++) {
    const pj = path.join(dir, 'package.json');
    if (fs.existsSync(pj)) {
      try {
        if ((JSON.parse(fs.readFileSync(pj, 'utf8')) as { name?: string }).name === 'cnnviz') return (found = dir);
      } catch {
        // not ours: keep climbing
      }
    }
    dir = path.dirname(dir);
  }
  return found;
}

/** The package root; throws, naming `who`, when there is none. */
export function packageRoot(who = 'cnnviz'): string {
  const root = findPackageRoot();
  if (root === null) fail(who, `cannot find the package root (the folder of cnnviz's package.json)`);
  return root;
}
