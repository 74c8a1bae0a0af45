#!/usr/bin/env node
/*
 * Fill the cnnviz data folder (CNNVIZ_DATA, default ~/.cache/cnnviz) with the third-party files of
 * data-manifest.json: from a mirror folder (CNNVIZ_MIRROR, default ../shared/data beside the
 * checkout), from extracted Debian packages (--debs DIR, for the sample photos), else from the
 * public URLs when online. Every file is written to a temporary name, checked, then renamed: a
 * half-written or mismatching file is never left under its real name. Plain JavaScript: it runs
 * before the TypeScript build.
 *
 *   node kernel-setup/fill-data.js [--debs DIR] [--check]     (--check: report only, copy nothing)
 * Exit 0 when every file is present and checked, 1 otherwise (with the list of what is missing).
 */
'use strict';
const crypto = require('crypto');
const fs = require('fs');
const os = require('os');
const path = require('path');

const root = path.resolve(__dirname, '..');
const manifest = JSON.parse(fs.readFileSync(path.join(root, 'data-manifest.json'), 'utf8'));
const dataDir = process.env.CNNVIZ_DATA || path.join(os.homedir(), '.cache', 'cnnviz');
const besides = path.join(root, '..', 'shared', 'data');
const mirror = process.env.CNNVIZ_MIRROR || (fs.existsSync(besides) ? besides : undefined);
// Tests point downloads at a local server; on a user's machine the manifest's public URLs are used.
const downloadBase = process.env.CNNVIZ_DOWNLOAD_BASE;

const args = process.argv.slice(2);
const checkOnly = args.includes('--check');
const debsAt = args.indexOf('--debs');
const debs = debsAt >= 0 ? args[debsAt + 1] : undefined;

const say = (msg) => console.log(`cnnviz data: ${msg}`);
const sha256raw = (file) => crypto.createHash('sha256').update(fs.readFileSync(file)).digest('hex');

// Hashes already taken, by absolute path, inode, size and times (shared with src/data/store.ts), so a
// run over a complete folder reads no file; a copy with its modification time kept changes inode or ctime.
const hashFile = path.join(dataDir, '.hashes.json');
let hashes = {};
try {
  hashes = JSON.parse(fs.readFileSync(hashFile, 'utf8'));
} catch {
  hashes = {};
}
function sha256(file) {
  const abs = path.resolve(file);
  const st = fs.statSync(abs);
  const known = hashes[abs];
  if (
    known &&
    known.size === st.size &&
    known.mtimeMs === st.mtimeMs &&
    known.ino === st.ino &&
    known.ctimeMs === st.ctimeMs
  )
    return known.sha256;
  const sum = sha256raw(abs);
  if (!abs.includes('.part-')) {
    hashes[abs] = { size: st.size, mtimeMs: st.mtimeMs, ino: st.ino, ctimeMs: st.ctimeMs, sha256: sum };
    try {
      fs.mkdirSync(dataDir, { recursive: true });
      const tmp = `${hashFile}.part-${process.pid}`;
      fs.writeFileSync(tmp, JSON.stringify(hashes));
      fs.renameSync(tmp, hashFile);
    } catch {
      // A read-only data folder only costs the hashing again next time.
    }
  }
  return sum;
}
const md5 = (file) => crypto.createHash('md5').update(fs.readFileSync(file)).digest('hex');

/** Structure-checked downloads (the public copy's sha256 is not known offline) record their hash here. */
const stampFile = path.join(dataDir, '.structure-checked.json');
function stamps() {
  try {
    return JSON.parse(fs.readFileSync(stampFile, 'utf8'));
  } catch {
    return {};
  }
}

/** Files that could not be read, reported together at the end (not only the first). */
const unreadable = [];

function state(file, f) {
  if (!fs.existsSync(file)) return 'missing';
  const sized = fs.statSync(file).size === f.size;
  let got;
  try {
    got = sha256(file);
  } catch (err) {
    unreadable.push({ file, code: err.code || err.message });
    return 'unreadable';
  }
  // A download checked by structure (the ImageNet photos' originals) has its own size and hash.
  if (!sized) return stamps()[f.path] === got ? 'present' : 'bad size';
  if (got === f.sha256 || stamps()[f.path] === got) return 'present';
  return 'bad hash';
}

/** Copy `from` to `to` through a temporary file; keep it only if its sha256 is the manifest's. */
function copyChecked(from, to, f, what) {
  const got = sha256(from);
  if (got !== f.sha256) {
    say(`refused ${f.path} from ${what} (${from}): sha256 ${got}, the manifest says ${f.sha256}`);
    return false;
  }
  fs.mkdirSync(path.dirname(to), { recursive: true });
  const tmp = `${to}.part-${process.pid}`;
  fs.copyFileSync(from, tmp);
  if (sha256(tmp) !== f.sha256) {
    fs.rmSync(tmp, { force: true });
    say(`copy of ${f.path} changed on the way; not kept`);
    return false;
  }
  fs.renameSync(tmp, to);
  return true;
}

async function download(url, to, label) {
  const res = await fetch(url);
  if (!res.ok || !res.body) throw new Error(`HTTP ${res.status} for ${url}`);
  const total = Number(res.headers.get('content-length') || 0);
  fs.mkdirSync(path.dirname(to), { recursive: true });
  const tmp = `${to}.part-${process.pid}`;
  const out = fs.createWriteStream(tmp);
  let got = 0;
  let shown = 0;
  try {
    for await (const chunk of res.body) {
      got += chunk.length;
      if (!out.write(chunk)) await new Promise((r) => out.once('drain', r));
      if (process.stdout.isTTY && Date.now() - shown > 500) {
        shown = Date.now();
        const of = total ? ` / ${(total / 1e6).toFixed(1)}` : '';
        process.stdout.write(`\rcnnviz data: ${label} ${(got / 1e6).toFixed(1)}${of} MB`);
      }
    }
  } finally {
    await new Promise((r) => out.end(r));
  }
  if (process.stdout.isTTY) process.stdout.write('\n');
  say(`${label}: ${(got / 1e6).toFixed(1)} MB downloaded`);
  return tmp;
}

function urlOf(e, rel) {
  const base = downloadBase ? `${downloadBase.replace(/\/$/, '')}/${e.name}/` : e.source;
  return new URL(rel, base).toString();
}

/** A model folder from its public URL: every file by size, model.json parsed and matched to the shards. */
async function downloadModel(e, missing) {
  const folder = path.dirname(e.files.find((f) => f.path.endsWith('model.json')).path);
  const fetched = [];
  try {
    for (const f of missing) {
      const to = path.join(dataDir, f.path);
      const tmp = await download(urlOf(e, path.relative(folder, f.path)), to, f.path);
      const size = fs.statSync(tmp).size;
      if (size !== f.size) {
        fs.rmSync(tmp, { force: true });
        throw new Error(`${f.path}: ${size} bytes, the manifest says ${f.size}`);
      }
      fetched.push([tmp, to, f]);
    }
    const jsonTmp = fetched.find(([, , f]) => f.path.endsWith('model.json'));
    const jsonFile = jsonTmp ? jsonTmp[0] : path.join(dataDir, folder, 'model.json');
    const json = JSON.parse(fs.readFileSync(jsonFile, 'utf8'));
    if (!json.modelTopology || !Array.isArray(json.weightsManifest))
      throw new Error(`${folder}/model.json is not a TensorFlow.js layers model`);
    const shards = json.weightsManifest.flatMap((g) => g.paths);
    for (const s of shards)
      if (!e.files.some((f) => f.path === `${folder}/${s}`))
        throw new Error(`${folder}/model.json names a shard '${s}' the manifest does not know`);
    const st = stamps();
    for (const [tmp, to, f] of fetched) {
      const got = sha256(tmp);
      if (got !== f.sha256) st[f.path] = got;
      fs.renameSync(tmp, to);
    }
    fs.mkdirSync(dataDir, { recursive: true });
    fs.writeFileSync(stampFile, JSON.stringify(st, null, 1));
    return true;
  } catch (err) {
    for (const [tmp] of fetched) fs.rmSync(tmp, { force: true });
    say(`download of ${e.name} failed: ${err.message}`);
    return false;
  }
}

/** The official CIFAR-10 archive, checked against its published md5 (the loader reads it as it is). */
async function downloadCifar(e) {
  const off = e.official;
  const to = path.join(dataDir, off.file);
  if (fs.existsSync(to) && md5(to) === off.md5) return true;
  try {
    const tmp = await download(downloadBase ? urlOf(e, off.file) : off.url, to, off.file);
    const got = md5(tmp);
    if (got !== off.md5) {
      fs.rmSync(tmp, { force: true });
      say(`refused ${off.file}: md5 ${got}, published ${off.md5}`);
      return false;
    }
    fs.renameSync(tmp, to);
    return true;
  } catch (err) {
    say(`download of ${off.file} failed: ${err.message}`);
    return false;
  }
}

/** A complete JPEG: starts with the SOI marker (FF D8 FF) and ends with EOI (FF D9), trailing zeros aside. */
function isJpeg(file) {
  const b = fs.readFileSync(file);
  let end = b.length;
  while (end > 0 && b[end - 1] === 0) end--;
  return b.length > 4 && b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff && b[end - 2] === 0xff && b[end - 1] === 0xd9;
}

/**
 * The ImageNet photos from their public source: the originals, larger than the mirror's resized
 * copies, so each is checked by structure (a complete JPEG of its manifest name) and its own
 * sha256 recorded. The first failure stops the rest (an unreachable source fails once, not 1,000 times).
 */
async function downloadPhotos(e, missing) {
  const st = stamps();
  const left = [];
  let failed = false;
  for (const f of missing) {
    if (failed) {
      left.push(f);
      continue;
    }
    const to = path.join(dataDir, f.path);
    let tmp;
    try {
      tmp = await download(urlOf(e, path.basename(f.path)), to, f.path);
      if (!isJpeg(tmp)) throw new Error(`${f.path}: not a complete JPEG`);
      st[f.path] = sha256(tmp);
      fs.renameSync(tmp, to);
    } catch (err) {
      if (tmp) fs.rmSync(tmp, { force: true });
      say(`download of ${e.name} failed: ${err.message}`);
      failed = true;
      left.push(f);
    }
  }
  fs.mkdirSync(dataDir, { recursive: true });
  fs.writeFileSync(stampFile, JSON.stringify(st, null, 1));
  return left;
}

/** Left-over temporary files (name.part-PID, name.part) of runs that were stopped: removed when their run is gone. */
function removeLeftovers(dir) {
  let removed = 0;
  let bytes = 0;
  const walk = (d) => {
    let entries;
    try {
      entries = fs.readdirSync(d, { withFileTypes: true });
    } catch {
      return;
    }
    for (const ent of entries) {
      const p = path.join(d, ent.name);
      if (ent.isDirectory()) walk(p);
      const m = /\.part(?:-(\d+))?$/.exec(ent.name);
      if (!ent.isFile() || !m) continue;
      if (m[1] && Number(m[1]) !== process.pid && alive(Number(m[1]))) continue;
      try {
        bytes += fs.statSync(p).size;
        fs.rmSync(p, { force: true });
        removed++;
      } catch {
        // not ours to remove: left for its owner
      }
    }
  };
  walk(dir);
  if (removed) say(`removed ${removed} left-over partial file(s) of stopped runs (${(bytes / 1e6).toFixed(1)} MB)`);
}

function alive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return err.code === 'EPERM';
  }
}

async function main() {
  say(`data folder ${dataDir}${mirror ? `, mirror ${mirror}` : ', no mirror'}`);
  if (!checkOnly) removeLeftovers(dataDir);
  const problems = [];
  for (const e of manifest.entries) {
    let missing = [];
    for (const f of e.files) {
      const target = path.join(dataDir, f.path);
      let st = state(target, f);
      if (st === 'present' || checkOnly) {
        if (st !== 'present') missing.push(f);
        continue;
      }
      if (st !== 'missing') say(`${f.path} in the data folder is ${st}; replacing it`);
      const fromMirror = mirror && path.join(mirror, f.path);
      const fromDeb = debs && f.deb && path.join(debs, f.deb.path);
      if (fromMirror && fs.existsSync(fromMirror) && copyChecked(fromMirror, target, f, 'the mirror')) continue;
      if (fromDeb && fs.existsSync(fromDeb) && copyChecked(fromDeb, target, f, `Debian's ${f.deb.package}`)) continue;
      missing.push(f);
    }
    if (missing.length && !checkOnly) {
      if (e.name === 'cifar-10') {
        if (await downloadCifar(e)) missing = [];
      } else if (e.name === 'mobilenet' || e.name === 'darknet-tiny') {
        if (await downloadModel(e, missing)) missing = [];
      } else if (e.name === 'imagenet-sample') {
        missing = await downloadPhotos(e, missing);
      }
    }
    if (e.name === 'cifar-10' && missing.length && fs.existsSync(path.join(dataDir, e.official.file))) missing = [];
    const have = e.files.length - missing.length;
    const names = missing.map((f) => f.path).join(', ');
    say(`${e.name}: ${have}/${e.files.length} files${missing.length ? `, missing ${names}` : ''}`);
    if (missing.length) problems.push({ e, missing });
  }
  const stillUnreadable = unreadable.filter((u) => {
    try {
      fs.accessSync(u.file, fs.constants.R_OK);
      return checkOnly;
    } catch {
      return true;
    }
  });
  if (stillUnreadable.length) {
    say(`${stillUnreadable.length} file(s) cannot be read; fix the permissions (chmod a+r FILE) or delete them and run again:`);
    for (const u of stillUnreadable) say(`  ${u.file} (${u.code})`);
    process.exitCode = 1;
  }
  if (problems.length) {
    say(
      'not complete. Put the missing files under the data folder with these paths, or set CNNVIZ_MIRROR to a folder ' +
        'holding them:',
    );
    for (const { e, missing } of problems) {
      say(`  ${e.name} (${e.license}) from ${e.source}:`);
      for (const f of missing.slice(0, 5)) say(`    ${path.join(dataDir, f.path)} (${f.size} bytes)`);
      if (missing.length > 5) say(`    ... and ${missing.length - 5} more`);
    }
    process.exitCode = 1;
  }
}

main().catch((err) => {
  say(`failed: ${err.message}`);
  process.exitCode = 1;
});
