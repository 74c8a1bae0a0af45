// A JupyterLab 4 / Notebook 7 server for the front-end test, from the venv that
// `bash kernel-setup/setup.sh --frontends` makes (or CNNVIZ_FRONTENDS): started on a free port
// with a token, on a temp folder, and stopped (the server shuts its kernels down) at the end.
import { ChildProcess, spawn } from 'child_process';
import * as fs from 'fs';
import * as net from 'net';
import * as path from 'path';
import { REPO } from './notebook';

export type FrontEnd = 'lab' | 'notebook7';

/** The venv's bin folder, or null when the front ends are not installed. */
export function frontendsBin(): string | null {
  const venv = process.env.CNNVIZ_FRONTENDS ?? path.join(REPO, 'kernel-setup', '.frontends');
  const bin = path.join(venv, 'bin');
  const ok = ['jupyter-lab', 'jupyter-notebook'].every((b) => fs.existsSync(path.join(bin, b)));
  return ok ? bin : null;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

export class JupyterServer {
  log = '';
  private constructor(
    readonly kind: FrontEnd,
    readonly port: number,
    readonly token: string,
    readonly root: string,
    private readonly proc: ChildProcess,
  ) {
    proc.stdout?.on('data', (d: Buffer) => (this.log += d.toString()));
    proc.stderr?.on('data', (d: Buffer) => (this.log += d.toString()));
  }

  static async start(kind: FrontEnd, bin: string, root: string): Promise<JupyterServer> {
    const port = await freePort();
    const token = 'cnnviz-' + Math.random().toString(36).slice(2);
    const exe = path.join(bin, kind === 'lab' ? 'jupyter-lab' : 'jupyter-notebook');
    const proc = spawn(
      exe,
      [
        '--no-browser',
        `--port=${port}`,
        '--ip=127.0.0.1',
        '--ServerApp.port_retries=0',
        `--IdentityProvider.token=${token}`,
        `--ServerApp.root_dir=${root}`,
        '--allow-root',
      ],
      { stdio: ['ignore', 'pipe', 'pipe'], env: process.env },
    );
    const server = new JupyterServer(kind, port, token, root, proc);
    const t0 = Date.now();
    while (!/is running at|http:\/\/127\.0\.0\.1:\d+\//.test(server.log)) {
      if (proc.exitCode !== null) throw new Error(`${exe} exited (${proc.exitCode}):\n${server.log.slice(-2000)}`);
      if (Date.now() - t0 > 120000) throw new Error(`${exe} did not start:\n${server.log.slice(-2000)}`);
      await new Promise((r) => setTimeout(r, 200));
    }
    return server;
  }

  /** The page of a notebook (a path relative to the server's root). */
  url(notebook: string): string {
    const route = this.kind === 'lab' ? 'lab/tree' : 'notebooks';
    return `http://127.0.0.1:${this.port}/${route}/${notebook}?token=${this.token}`;
  }

  async stop(): Promise<void> {
    if (this.proc.exitCode !== null) return;
    const done = new Promise((r) => this.proc.once('exit', r));
    this.proc.kill('SIGTERM');
    // jupyter asks for confirmation on the first SIGINT only; SIGTERM stops it and its kernels
    await Promise.race([done, new Promise((r) => setTimeout(r, 15000))]);
    if (this.proc.exitCode === null) this.proc.kill('SIGKILL');
  }
}
