import * as assert from 'assert';
import { spawn } from 'child_process';
import * as path from 'path';
import { REPO } from './util/notebook';

describe('npm start: the notebook server', () => {
  it('serves notebooks/ on loopback, prints the URL with its token, and offers the cnnviz kernel', async () => {
    const port = 18000 + Math.floor(Math.random() * 1000);
    const child = spawn(
      process.execPath,
      [path.join(REPO, 'build', 'src', 'cli.js'), 'serve', '--port', String(port)],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    try {
      const url = await new Promise<string>((resolve, reject) => {
        let out = '';
        const timer = setTimeout(() => reject(new Error(`no URL within 60 s:\n${out}`)), 60000);
        const onData = (b: Buffer) => {
          out += b.toString();
          const m = out.match(
            /cnnviz: the lecture is open at (http:\/\/127\.0\.0\.1:\d+\/tree\/lecture15\?token=[0-9a-f]+)/,
          );
          if (m) {
            clearTimeout(timer);
            resolve(m[1]);
          }
        };
        child.stdout.on('data', onData);
        child.stderr.on('data', onData);
        child.on('exit', (code) => reject(new Error(`server exited with ${code}:\n${out}`)));
      });
      const token = new URL(url).searchParams.get('token');
      const specs = (await (await fetch(`http://127.0.0.1:${port}/api/kernelspecs?token=${token}`)).json()) as {
        kernelspecs: Record<string, { spec: { display_name: string; argv: string[] } }>;
      };
      assert.strictEqual(specs.kernelspecs.cnnviz.spec.display_name, 'TypeScript (cnnviz)');
      assert.strictEqual(
        specs.kernelspecs.cnnviz.spec.argv[1],
        path.join(REPO, 'node_modules', 'tslab', 'bin', 'tslab'),
      );
      const tree = (await (await fetch(`http://127.0.0.1:${port}/api/contents/lecture15?token=${token}`)).json()) as {
        content: Array<{ name: string }>;
      };
      assert.ok(
        tree.content.some((f) => f.name === '00-setup.ipynb'),
        `lecture15 holds ${tree.content.map((f) => f.name)}`,
      );
    } finally {
      child.kill('SIGTERM');
    }
  });
});
