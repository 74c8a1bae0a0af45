/**
 * The data folder: third-party files (ImageNet weights, CIFAR-10, sample photos) that are never
 * committed. They live in one folder (CNNVIZ_DATA, default ~/.cache/cnnviz), filled by
 * kernel-setup/setup.sh from a mirror folder, Debian packages or their public URLs, and are
 * described file by file in the committed data-manifest.json (size, sha256, source, license).
 * Readers look in the data folder first, then in the mirror, so a checkout beside a mirror works
 * before the setup script has copied anything.
 */
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { packageRoot } from '../common/package_root';
import { fail } from '../common';

export interface ManifestFile {
  /** Path inside the data folder (and the mirror), '/'-separated. */
  path: string;
  size: number;
  /** sha256 of the file as the mirror (or the Debian package) has it. */
  sha256: string;
  /** for a .gz: sha256 of its content, so a plain (gunzipped) copy of it is checked too */
  plainSha256?: string;
}

export interface ManifestEntry {
  /** What the files are: 'mobilenet', 'darknet-tiny', 'cifar-10', 'photos'. */
  name: string;
  description: string;
  license: string;
  /** Where the files come from on a machine that is online. */
  source: string;
  files: ManifestFile[];
  [key: string]: unknown;
}

export interface Manifest {
  entries: ManifestEntry[];
}

export { packageRoot };

/** The data folder: CNNVIZ_DATA, else ~/.cache/cnnviz. */
export function dataDir(): string {
  return process.env.CNNVIZ_DATA || path.join(os.homedir(), '.cache', 'cnnviz');
}

/** The mirror folder: CNNVIZ_MIRROR, else ../shared/data beside the checkout when it exists. */
export function mirrorDir(): string | undefined {
  if (process.env.CNNVIZ_MIRROR) return process.env.CNNVIZ_MIRROR;
  try {
    const beside = path.join(packageRoot(), '..', 'shared', 'data');
    return fs.existsSync(beside) ? beside : undefined;
  } catch {
    return undefined;
  }
}

let manifestCache: Manifest | undefined;

export function manifest(): Manifest {
  if (!manifestCache)
    manifestCache = JSON.parse(fs.readFileSync(path.join(packageRoot(), 'data-manifest.json'), 'utf8')) as Manifest;
  return manifestCache;
}

export function entry(name: string): ManifestEntry {
  const e = manifest().entries.find((x) => x.name === name);
  if (!e)
    fail(
      'cnnviz data',
      `no manifest entry '${name}'; known: ${manifest()
        .entries.map((x) => x.name)
        .join(', ')}`,
    );
  return e;
}

interface HashRecord {
  size: number;
  mtimeMs: number;
  /** inode and status-change time: a copy made with its modification time kept (cp -p, rsync -t) changes these */
  ino?: number;
  ctimeMs?: number;
  sha256: string;
}

/** A file's identity for the hash records: the same path, inode, size and both times, or it is hashed again. */
function sameFile(known: HashRecord | undefined, st: fs.Stats): boolean {
  return (
    !!known &&
    known.size === st.size &&
    known.mtimeMs === st.mtimeMs &&
    known.ino === st.ino &&
    known.ctimeMs === st.ctimeMs
  );
}

/** Reads a data file; an unreadable one is an Error naming it and the fix, not a raw EACCES. */
export function readDataFile(file: string, caller: string): Buffer {
  try {
    return fs.readFileSync(file);
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    if (e.code === 'EACCES' || e.code === 'EPERM')
      fail(
        caller,
        `${file} cannot be read (permission denied); fix with: chmod a+r '${file}' (or run ` +
          `'bash kernel-setup/setup.sh' as the user who reads it)`,
      );
    fail(caller, `${file} cannot be read (${e.code ?? e.message}); delete it and run 'bash kernel-setup/setup.sh'`);
  }
}

function hashFile(): string {
  return path.join(dataDir(), '.hashes.json');
}

function readHashes(): Record<string, HashRecord> {
  try {
    return JSON.parse(fs.readFileSync(hashFile(), 'utf8')) as Record<string, HashRecord>;
  } catch {
    return {};
  }
}

/**
 * sha256 of a file, remembered in the data folder by path, inode, size and times (the setup script
 * shares the record), so checking a complete folder reads no file twice. `fresh` hashes the bytes
 * whatever the record says (a loader's first read in a process, doctor --verify): bit rot changes no
 * time at all.
 */
export function sha256(file: string, opts: { fresh?: boolean; caller?: string } = {}): string {
  const abs = path.resolve(file);
  const st = fs.statSync(abs);
  const hashes = readHashes();
  const known = hashes[abs];
  if (!opts.fresh && sameFile(known, st)) return known.sha256;
  const sum = crypto
    .createHash('sha256')
    .update(readDataFile(abs, opts.caller ?? 'cnnviz data'))
    .digest('hex');
  hashes[abs] = { size: st.size, mtimeMs: st.mtimeMs, ino: st.ino, ctimeMs: st.ctimeMs, sha256: sum };
  try {
    fs.mkdirSync(dataDir(), { recursive: true });
    const tmp = `${hashFile()}.part-${process.pid}`;
    fs.writeFileSync(tmp, JSON.stringify(hashes));
    fs.renameSync(tmp, hashFile());
  } catch {
    // A read-only data folder only costs the hashing again next time.
  }
  return sum;
}

/** sha256 values of downloads checked by structure (see kernel-setup/fill-data.js). */
function structureChecked(): Record<string, string> {
  try {
    return JSON.parse(fs.readFileSync(path.join(dataDir(), '.structure-checked.json'), 'utf8')) as Record<
      string,
      string
    >;
  } catch {
    return {};
  }
}

/** Files hashed (fresh) in this process, by path: inode, size and times when they were. */
const verified = new Map<string, string>();

/** Checks a plain (gunzipped) copy of the manifest's `gzPath` by its content hash, first read in a process. */
export function checkPlain(entryName: string, gzPath: string, file: string, caller: string): void {
  const f = entry(entryName).files.find((x) => x.path === gzPath);
  const st = fs.statSync(file);
  const id = `${st.ino}:${st.size}:${st.mtimeMs}:${st.ctimeMs}`;
  if (verified.get(file) === id) return;
  const got = sha256(file, { fresh: true, caller });
  if (!f?.plainSha256 || got !== f.plainSha256)
    fail(
      caller,
      `${file} has sha256 ${got}, the manifest says ${f?.plainSha256 ?? '(none for a plain copy)'} for ` +
        `the content of ${gzPath}; delete it and run 'bash kernel-setup/setup.sh'`,
    );
  verified.set(file, id);
}

export type FileState = 'present' | 'missing' | 'bad size' | 'bad hash' | 'unreadable';

/** The state of one manifest file in a folder (checked by size, and by hash when `hash`). */
export function fileState(dir: string, f: ManifestFile, hash = true, fresh = false): FileState {
  const p = path.join(dir, f.path);
  if (!fs.existsSync(p)) return 'missing';
  if (fs.statSync(p).size !== f.size) return structureChecked()[f.path] === sha256(p) ? 'present' : 'bad size';
  if (hash) {
    let got: string;
    try {
      // fresh: the bytes themselves, whatever the hash record says (doctor --verify)
      got = sha256(p, { fresh });
    } catch {
      return 'unreadable';
    }
    if (got !== f.sha256 && structureChecked()[f.path] !== got) return 'bad hash';
  }
  return 'present';
}

/**
 * The path of a manifest file, from the data folder or else the mirror, checked against the
 * manifest (size always, sha256 once per process and file). A file that fails the check is
 * never used: the error names it and both hashes.
 */
export function locate(entryName: string, relPath: string, caller: string): string {
  const e = entry(entryName);
  const f = e.files.find((x) => x.path === relPath);
  if (!f) fail(caller, `'${relPath}' is not in the data manifest entry '${entryName}'`);
  const dirs = [dataDir(), mirrorDir()].filter((d): d is string => !!d);
  for (const d of dirs) {
    const p = path.join(d, f.path);
    if (!fs.existsSync(p)) continue;
    const st = fs.statSync(p);
    // A download checked by structure (fill-data.js) may differ in size from the mirror's copy.
    const stamped = d === dataDir() && st.size !== f.size && structureChecked()[f.path] === sha256(p);
    if (st.size !== f.size && !stamped) {
      fail(
        caller,
        `${p} has ${st.size} bytes, the manifest says ${f.size} (truncated or wrong file); delete it ` +
          `and run 'bash kernel-setup/setup.sh'`,
      );
    }
    const id = `${st.ino}:${st.size}:${st.mtimeMs}:${st.ctimeMs}`;
    if (verified.get(p) !== id) {
      // the first read in this process hashes the bytes themselves
      const got = sha256(p, { fresh: true, caller });
      if (got !== f.sha256 && !(d === dataDir() && structureChecked()[f.path] === got)) {
        fail(
          caller,
          `${p} has sha256 ${got}, the manifest says ${f.sha256}; delete it and run 'bash kernel-setup/setup.sh'`,
        );
      }
      verified.set(p, id);
    }
    return p;
  }
  fail(
    caller,
    `${f.path} (${e.name}, ${e.license}) is not in the data folder ${dataDir()}` +
      (mirrorDir() ? ` nor in the mirror ${mirrorDir()}` : '') +
      `; run 'bash kernel-setup/setup.sh' (it copies it from a mirror, CNNVIZ_MIRROR, or downloads ${e.source}), ` +
      `or put the file there by hand`,
  );
}
