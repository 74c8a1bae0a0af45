// The display bridge in the real cnnviz kernel (tslab), watched at the message level with
// jupyter_client: every iopub message is recorded with the request it answers, so we can
// see that a display sends nothing once its cell has ended (work the cell left running
// cannot write into a finished cell), that a throttled last frame is drawn before the cell
// ends, and that a Figure as a cell's value is one display_data, no text.
import * as assert from 'assert';
import { execFileSync } from 'child_process';
import * as path from 'path';
import { jupyterPython, REPO } from './util/notebook';

const DRIVER = String.raw`
import json, sys, time
from jupyter_client.manager import start_new_kernel
cells = json.loads(sys.argv[1])
km, kc = start_new_kernel(kernel_name='cnnviz', cwd=sys.argv[2])
log = []
try:
    ids = []
    for code in cells:
        mid = kc.execute(code)
        ids.append(mid)
        reply = kc.get_shell_msg(timeout=120)
        while reply['parent_header'].get('msg_id') != mid:
            reply = kc.get_shell_msg(timeout=120)
        # drain iopub until this request is idle
        while True:
            m = kc.get_iopub_msg(timeout=120)
            log.append(m)
            if (m['msg_type'] == 'status' and m['content']['execution_state'] == 'idle'
                    and m['parent_header'].get('msg_id') == mid):
                break
    t_end = time.time() + 1.5
    while time.time() < t_end:
        try:
            log.append(kc.get_iopub_msg(timeout=0.3))
        except Exception:
            pass
    out = [{'type': m['msg_type'],
            'parent': ids.index(m['parent_header']['msg_id']) if m['parent_header'].get('msg_id') in ids else None,
            'content': {k: v for k, v in m['content'].items() if k != 'data'},
            'mimes': sorted(m['content'].get('data', {}).keys()),
            'text': m['content'].get('data', {}).get('text/plain', m['content'].get('text', ''))} for m in log]
    print(json.dumps(out))
finally:
    kc.stop_channels()
    km.shutdown_kernel(now=True)
`;

interface Msg {
  type: string;
  parent: number | null;
  content: Record<string, unknown>;
  mimes: string[];
  text: string;
}

describe('widgets: display bridge in the real kernel', function () {
  this.timeout(300000);
  let msgs: Msg[];

  before(() => {
    const cells = [
      `import { show, render } from 'cnnviz';
const img = { width: 8, height: 8, channels: 1, data: new Float32Array(64).map((_, i) => (i % 9) / 8) };`,
      // 1: a progress display fed by async work that outlives the cell
      `const p = show.progress({ title: 'async', total: 8 });
p.interval = 0;
const work1 = (async () => {
  for (let i = 1; i <= 8; i++) {
    await new Promise((r) => setTimeout(r, 60));
    p.update(i, i * i, img);
  }
  p.done();
})();
console.log('cell 1 returns at once');`,
      // 2: runs while cell 1's work goes on, until it ends (an event, not a time: the machine may be loaded)
      `await work1;
console.log('cell 2 done');`,
      // 3: a Figure as the value of the cell
      `const fig = render.images([img, img]);
fig`,
      // 4: show.* as the last expression: shown once, not twice
      `show.images([img])`,
      // 5: updates faster than the redraw interval, awaited in the cell: the last one is drawn before the cell ends
      `const q = show.progress({ title: 'awaited', total: 5 });
for (let i = 1; i <= 5; i++) { q.update(i, 10 * i); await new Promise((r) => setTimeout(r, 5)); }`,
    ];
    const out = execFileSync(
      jupyterPython(),
      ['-c', DRIVER, JSON.stringify(cells), path.join(REPO, 'notebooks', 'gallery')],
      {
        cwd: REPO,
        encoding: 'utf8',
        maxBuffer: 64 << 20,
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    msgs = JSON.parse(out.trim().split('\n').pop() as string);
  });

  it('a display sends nothing after its cell ended: no update from work the cell left running', () => {
    const displays = msgs.filter((m) => m.parent === 1 && m.type === 'display_data');
    assert.strictEqual(displays.length, 1, 'one display in cell 1');
    const idle1 = msgs.findIndex((m) => m.type === 'status' && m.content.execution_state === 'idle' && m.parent === 1);
    assert.ok(idle1 > 0, 'cell 1 went idle');
    const late = msgs.slice(idle1 + 1).filter((m) => m.parent === 1);
    assert.deepStrictEqual(late, [], 'messages for cell 1 after its idle status');
    assert.ok(
      msgs.some((m) => m.parent === 2 && m.type === 'stream' && /cell 2 done/.test(m.text)),
      'cell 2 ran',
    );
    assert.ok(!msgs.some((m) => m.parent === 2 && /display_data/.test(m.type)), 'nothing displayed in cell 2');
  });

  it('the last frame of a throttled display is drawn before its cell ends', () => {
    const own = msgs.filter((m) => m.parent === 5 && /display_data/.test(m.type));
    assert.ok(own.length >= 2, `${own.length} display messages`);
    assert.match(own[own.length - 1].text, /awaited · step 5 \/ 5 · score 50/);
    const idle5 = msgs.findIndex((m) => m.type === 'status' && m.content.execution_state === 'idle' && m.parent === 5);
    assert.ok(msgs.indexOf(own[own.length - 1]) < idle5, 'the last frame came before the idle status');
  });

  it('a Figure as the value of a cell: one display_data, no text output', () => {
    for (const cell of [3, 4]) {
      const own = msgs.filter((m) => m.parent === cell);
      const shown = own.filter((m) => m.type === 'display_data' || m.type === 'execute_result');
      assert.strictEqual(shown.length, 1, `cell ${cell}: ${shown.length} displays`);
      assert.deepStrictEqual(shown[0].mimes, ['image/png', 'text/plain']);
      assert.deepStrictEqual(
        own.filter((m) => m.type === 'stream'),
        [],
        `cell ${cell} printed text`,
      );
      assert.deepStrictEqual(
        own.filter((m) => m.type === 'error'),
        [],
      );
    }
  });
});
