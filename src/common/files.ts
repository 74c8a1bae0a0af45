// Reading a file the user named, with the fix in the message instead of a raw EACCES (node only: not in the
// common index, which the explorer page bundles).
import * as fs from 'fs';
import { fail } from './errors';

/** A file's bytes, or `caller: 'file' cannot be read (permission denied); fix with: chmod a+r 'file'`. */
export function readFileNamed(caller: string, file: string): Buffer {
  try {
    return fs.readFileSync(file);
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    if (e.code === 'EACCES' || e.code === 'EPERM')
      fail(caller, `'${file}' cannot be read (permission denied); fix with: chmod a+r '${file}'`);
    fail(caller, `'${file}' cannot be read (${e.code ?? e.message})`);
  }
}
