// What a front end sees from the real cnnviz kernel (tslab), driven with jupyter_client:
// - Run All (several execute requests sent at once): the kernel reads busy from the first
//   request until the last one ends (every "idle" but the last is followed at once by "busy");
// - an interrupted t-SNE cell shows one line, `AbortError: tsne: interrupted`, and no stack.
import * as assert from 'assert';
import { execFileSync } from 'child_process';
import * as path from 'path';
import { IOPUB_PUMP, jupyterPython, REPO } from './util/notebook';

const DRIVER = String.raw`
import json, sys, time
from jupyter_client.manager import start_new_kernel

cells, tsne_code = json.loads(sys.argv[1])
km, kc = start_new_kernel(kernel_name='cnnviz', cwd=sys.argv[2], startup_timeout=120)
log = []

def record(m):
    c = m['content']
    log.append({'type': m['msg_type'], 'parent': m['parent_header'].get('msg_id'),
                'state': c.get('execution_state'), 'name': c.get('name'), 'text': c.get('text'),
                'ename': c.get('ename'), 'evalue': c.get('evalue')})
${IOPUB_PUMP}
def idle_of(mid):
    return any(e['type'] == 'status' and e['state'] == 'idle' and e['parent'] == mid for e in log)

out = {}
try:
    ids = [kc.execute(c) for c in cells]      # Run All: every request at once
    pump(lambda: idle_of(ids[-1]))
    pump(lambda: False, 0.3)
    out['ids'] = ids
    out['runAll'] = [e for e in log if e['type'] == 'status']
    del log[:]
    mid = kc.execute(tsne_code)
    pump(lambda: any(e['parent'] == mid and e['type'] == 'stream' and 'started' in (e['text'] or '') for e in log))
    time.sleep(0.5)
    km.interrupt_kernel()
    pump(lambda: idle_of(mid), 30)
    out['interrupt'] = [e for e in log if e['parent'] == mid and e['type'] in ('stream', 'error')]
finally:
    kc.stop_channels()
    km.shutdown_kernel(now=True)
print(json.dumps(out))
`;

const CELLS = [
  `import { setup, tsne, tf } from 'cnnviz';
await setup();
await new Promise((r) => setTimeout(r, 300));`,
  `await new Promise((r) => setTimeout(r, 300));`,
  `const x = 2;
await new Promise((r) => setTimeout(r, 300));`,
  `console.log('last', x);`,
];

const TSNE = `const X = {
  data: tf.randomUniform([400, 8], 0, 1, 'float32', 1).dataSync() as Float32Array, rows: 400, cols: 8,
};
let n = 0;
await tsne(X, { iterations: 1000000, reportEvery: 10, onStep: () => { if (n++ === 0) console.log('started'); } });
console.log('tsne finished');`;

interface Logged {
  type: string;
  parent: string;
  state?: string;
  name?: string;
  text?: string;
  ename?: string;
  evalue?: string;
}

describe('the kernel as a front end sees it (status during Run All, the interrupt line)', function () {
  this.timeout(300000);
  let out: { ids: string[]; runAll: Logged[]; interrupt: Logged[] };

  before(() => {
    const text = execFileSync(
      jupyterPython(),
      ['-c', DRIVER, JSON.stringify([CELLS, TSNE]), path.join(REPO, 'notebooks')],
      { encoding: 'utf8', maxBuffer: 64 << 20, env: process.env },
    );
    out = JSON.parse(text.trim().split('\n').pop() as string);
  });

  it('Run All: busy from the first request until the last one ends', () => {
    const s = out.runAll;
    assert.ok(s.length >= 2 * CELLS.length, `a busy and an idle for each request: ${JSON.stringify(s)}`);
    assert.strictEqual(s[0].state, 'busy');
    const last = s[s.length - 1];
    assert.deepStrictEqual([last.state, last.parent], ['idle', out.ids[CELLS.length - 1]]);
    // every idle before the last request's own is followed at once by a busy
    const lastIdle = s.findIndex((e) => e.state === 'idle' && e.parent === out.ids[CELLS.length - 1]);
    for (let i = 0; i < lastIdle; i++) {
      if (s[i].state === 'idle')
        assert.strictEqual(s[i + 1].state, 'busy', `status ${i} (idle of ${s[i].parent}) left the kernel idle`);
    }
    // and each request still got its own idle (front ends wait for it)
    for (const id of out.ids)
      assert.ok(
        s.some((e) => e.state === 'idle' && e.parent === id),
        `no idle for ${id}`,
      );
  });

  it("an interrupted t-SNE shows one line: the function's own AbortError, no stack through tslab", () => {
    const stderr = out.interrupt
      .filter((e) => e.type === 'stream' && e.name === 'stderr')
      .map((e) => e.text)
      .join('');
    const stdout = out.interrupt
      .filter((e) => e.type === 'stream' && e.name === 'stdout')
      .map((e) => e.text)
      .join('');
    assert.match(stdout, /started/);
    assert.doesNotMatch(stdout, /tsne finished/);
    assert.strictEqual(stderr, 'AbortError: tsne: interrupted\n');
    assert.deepStrictEqual(
      out.interrupt.filter((e) => e.type === 'error'),
      [],
      'no error output with a traceback',
    );
  });
});
