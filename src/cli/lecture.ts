import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { readyJupyter } from './doctor';
import { listNotebooks, packageRoot } from './paths';

interface Report {
  notebook: string;
  seconds: number;
  cells: Array<{ index: number; seconds: number | null }>;
  error: null | { cell: number; message: string };
  html?: string;
}

/** `cnnviz lecture [notebooks...] [--out DIR]`: execute notebooks headless, write executed copies + HTML + index. */
export async function lectureMain(args: string[]): Promise<number> {
  const root = packageRoot();
  let out = path.join(root, 'out');
  const picked: string[] = [];
  for (let i = 0; i < args.length; i++) {
    if (args[i] === '--out') out = path.resolve(args[++i]);
    else picked.push(path.resolve(args[i]));
  }
  const notebooks = picked.length ? picked : listNotebooks();
  if (notebooks.length === 0) {
    console.error('cnnviz lecture: no notebooks found under notebooks/');
    return 1;
  }
  const py = readyJupyter('lecture', root, ' (npm run lecture does)');
  if (!py) return 1;
  fs.mkdirSync(out, { recursive: true });
  const reportFile = path.join(out, 'report.json');
  const r = spawnSync(
    py,
    [
      path.join(root, 'kernel-setup', 'execute.py'),
      '--out',
      out,
      '--root',
      path.join(root, 'notebooks'),
      '--html',
      '--report',
      reportFile,
      ...notebooks,
    ],
    { stdio: 'inherit', cwd: root },
  );
  if (!fs.existsSync(reportFile)) return r.status ?? 1;
  const reports = JSON.parse(fs.readFileSync(reportFile, 'utf8')) as Report[];
  const rows = reports
    .map((rep) => {
      const rel = path.relative(path.join(root, 'notebooks'), rep.notebook);
      const href = rep.html ? path.relative(out, rep.html) : '';
      const slow = rep.cells.reduce((m, c) => Math.max(m, c.seconds ?? 0), 0);
      const status = rep.error ? `<b style="color:#b00">failed at cell ${rep.error.cell}</b>` : 'ok';
      return (
        `<tr><td><a href="${href}">${rel}</a></td><td>${rep.seconds.toFixed(1)} s</td><td>${slow.toFixed(1)} ` +
        `s</td><td>${status}</td></tr>`
      );
    })
    .join('\n');
  fs.writeFileSync(
    path.join(out, 'index.html'),
    `<!doctype html><meta charset="utf-8"><title>cnnviz lecture notebooks</title>
<style>body{font-family:sans-serif;margin:2em}td,th{padding:4px 12px;text-align:left}</style>
<h1>cnnviz: lecture notebooks</h1><p>Executed ${new Date().toISOString()}.</p>
<table><tr><th>notebook</th><th>time</th><th>slowest cell</th><th>status</th></tr>
${rows}
</table>\n`,
  );
  console.log(`wrote ${path.join(out, 'index.html')}`);
  return reports.some((x) => x.error) ? 1 : (r.status ?? 0);
}
