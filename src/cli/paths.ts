import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';

/** The repository (package) root, from src/cli or build/src/cli. */
export function packageRoot(): string {
  let dir = __dirname;
  for (let i = 0; i < 6; i++) {
    const pj = path.join(dir, 'package.json');
    if (fs.existsSync(pj) && (JSON.parse(fs.readFileSync(pj, 'utf8')) as { name?: string }).name === 'cnnviz')
      return dir;
    dir = path.dirname(dir);
  }
  throw new Error('cnnviz: cannot find the package root');
}

/** The Python that has Jupyter: the one kernel-setup recorded, else Debian's, else python3. */
export function findJupyterPython(): string | undefined {
  const saved = path.join(packageRoot(), 'kernel-setup', '.python');
  const cands = [
    process.env.CNNVIZ_PYTHON,
    fs.existsSync(saved) ? fs.readFileSync(saved, 'utf8').trim() : undefined,
    '/usr/bin/python3',
    'python3',
  ];
  for (const c of cands) {
    if (!c) continue;
    const r = spawnSync(c, ['-c', 'import jupyter_client'], { stdio: 'ignore' });
    if (r.status === 0) return c;
  }
  return undefined;
}

/** Every notebook under notebooks/ (sorted), skipping checkpoints. */
export function listNotebooks(dir = path.join(packageRoot(), 'notebooks')): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      if (e.name.startsWith('.')) continue;
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.name.endsWith('.ipynb')) out.push(p);
    }
  };
  if (fs.existsSync(dir)) walk(dir);
  return out;
}
