import { spawn } from 'child_process';
import * as path from 'path';
import { findJupyterPython, packageRoot } from './paths';

/** `cnnviz serve [--port N]`: Jupyter Notebook on notebooks/, printing the URL with its token. */
export async function serveMain(args: string[]): Promise<number> {
  const py = findJupyterPython();
  if (!py) {
    console.error("cnnviz serve: no Python with Jupyter found; run 'bash kernel-setup/setup.sh'");
    return 1;
  }
  const portIdx = args.indexOf('--port');
  const port = portIdx >= 0 ? args[portIdx + 1] : (process.env.CNNVIZ_PORT ?? '8888');
  const dir = path.join(packageRoot(), 'notebooks');
  const child = spawn(
    py,
    [
      '-m',
      'notebook',
      `--notebook-dir=${dir}`,
      '--no-browser',
      '--ip=127.0.0.1',
      `--port=${port}`,
      ...(process.getuid?.() === 0 ? ['--allow-root'] : []),
    ],
    {
      stdio: ['inherit', 'inherit', 'pipe'],
    },
  );
  // Stopping us stops the server too (a test or a teacher's Ctrl-C must not leave it running).
  const stop = () => {
    child.kill('SIGTERM');
    setTimeout(() => child.kill('SIGKILL'), 3000).unref();
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
  let announced = false;
  child.stderr.on('data', (chunk: Buffer) => {
    const text = chunk.toString();
    process.stderr.write(text);
    const m = text.match(/(http:\/\/127\.0\.0\.1:\d+\/\?token=[0-9a-f]+)/);
    if (m && !announced) {
      announced = true;
      console.log(`\ncnnviz: the lecture is open at ${m[1].replace('/?token', '/tree/lecture15?token')}\n`);
    }
  });
  return new Promise((resolve) => child.on('exit', (code) => resolve(code ?? 0)));
}
