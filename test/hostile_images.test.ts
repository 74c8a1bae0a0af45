// images.read against hostile and broken input: a decompression bomb, a too-large photo, truncated
// PNG and JPEG files, and URLs of a server that never stops sending, never answers, or goes
// silent. Each gets the named error before the work, memory stays bounded, tensors do not leak,
// and the event loop keeps turning.
import * as assert from 'assert';
import * as fs from 'fs';
import * as http from 'http';
import { AddressInfo } from 'net';
import * as os from 'os';
import * as path from 'path';
import * as zlib from 'zlib';
import { createCanvas } from '@napi-rs/canvas';
import { images, tf } from '../src';

const MB = 1024 * 1024;

function crc32(b: Buffer): number {
  let c = ~0;
  for (const x of b) {
    c ^= x;
    for (let k = 0; k < 8; k++) c = (c >>> 1) ^ (0xedb88320 & -(c & 1));
  }
  return ~c >>> 0;
}

function chunk(type: string, data: Buffer): Buffer {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(data.length);
  const td = Buffer.concat([Buffer.from(type, 'latin1'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(td));
  return Buffer.concat([len, td, crc]);
}

/** A whole PNG declaring width x height, its IDAT the deflate of `raw` zero bytes (a bomb: small file, huge image). */
function bombPng(width: number, height: number, raw: number): Buffer {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 2; // RGB
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('IDAT', zlib.deflateSync(Buffer.alloc(raw), { level: 9 })),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

function photo(type: 'image/png' | 'image/jpeg'): Buffer {
  const c = createCanvas(96, 64);
  const ctx = c.getContext('2d');
  for (let y = 0; y < 64; y += 4)
    for (let x = 0; x < 96; x += 4) {
      ctx.fillStyle = `rgb(${(x * 7) % 256}, ${(y * 11) % 256}, ${(x * y) % 256})`;
      ctx.fillRect(x, y, 4, 4);
    }
  return type === 'image/png' ? c.toBuffer('image/png') : c.toBuffer('image/jpeg');
}

/** Counts event-loop turns while `work` runs: the process stays responsive. */
async function ticksDuring<T>(work: Promise<T>): Promise<{ ticks: number; result: PromiseSettledResult<T> }> {
  let ticks = 0;
  const timer = setInterval(() => ticks++, 10);
  const [result] = await Promise.allSettled([work]);
  clearInterval(timer);
  return { ticks, result };
}

function rejection(r: PromiseSettledResult<unknown>): string {
  assert.strictEqual(r.status, 'rejected', 'expected an error');
  return ((r as PromiseRejectedResult).reason as Error).message;
}

describe('images.read: limits before the work', function () {
  this.timeout(120000);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cnnviz-hostile-'));
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('a PNG bomb declaring 30000x30000 is refused from its header; memory stays bounded', async () => {
    const file = path.join(dir, 'bomb.png');
    fs.writeFileSync(file, bombPng(30000, 30000, 100 * MB));
    assert.ok(fs.statSync(file).size < 1 * MB, `the bomb is ${fs.statSync(file).size} bytes`);
    const before = tf.memory().numTensors;
    const rss0 = process.memoryUsage().rss;
    const { result } = await ticksDuring(images.read(file));
    const grew = (process.memoryUsage().rss - rss0) / MB;
    assert.match(
      rejection(result),
      new RegExp(
        "^images\\.read: '.*bomb\\.png' declares 30000x30000 pixels \\(900\\.0 megapixels\\); " +
          'at most 50 megapixels are read \\(option maxPixels',
      ),
    );
    assert.ok(grew < 200, `RSS grew ${grew.toFixed(0)} MB`);
    assert.strictEqual(tf.memory().numTensors, before);
  });

  it('a 60-megapixel PNG needs maxPixels; the option is checked', async () => {
    const file = path.join(dir, 'big.png');
    fs.writeFileSync(file, bombPng(10000, 6000, MB));
    await assert.rejects(images.read(file), /'.*big\.png' declares 10000x6000 pixels \(60\.0 megapixels\)/);
    await assert.rejects(
      images.read(file, { maxPixels: -1 }),
      /^Error: images\.read: maxPixels must be a number above 0/,
    );
    // raised, the header check passes; its data holds 1 MiB of the 180 MB it declares: refused, not decoded to black
    await assert.rejects(
      images.read(file, { maxPixels: 1e8, size: 8 }),
      /^Error: images\.read: '.*big\.png' is a truncated PNG file \(its image data holds 1048576 of 180006000 bytes\)/,
    );
  });

  it('truncated PNG and JPEG files are refused with the file named; whole ones read', async () => {
    for (const [type, ext] of [
      ['image/png', 'png'],
      ['image/jpeg', 'jpg'],
    ] as const) {
      const bytes = photo(type);
      const whole = path.join(dir, `whole.${ext}`);
      fs.writeFileSync(whole, bytes);
      const x = await images.read(whole);
      assert.deepStrictEqual(x.shape, [64, 96, 3]);
      x.dispose();
      const before = tf.memory().numTensors;
      for (const keep of [0.5, 0.9]) {
        const cut = path.join(dir, `cut-${keep}.${ext}`);
        fs.writeFileSync(cut, bytes.subarray(0, Math.floor(bytes.length * keep)));
        await assert.rejects(
          images.read(cut),
          new RegExp(
            `^Error: images\\.read: '.*cut-${keep}\\.${ext}' is a truncated ${ext === 'png' ? 'PNG' : 'JPEG'}`,
          ),
        );
      }
      assert.strictEqual(tf.memory().numTensors, before);
    }
    // an output size past the limit is refused before decoding too
    await assert.rejects(
      images.read(path.join(dir, 'whole.png'), { size: [100000, 100000] }),
      /^Error: images\.read: size \[100000, 100000\] is 10000\.0 megapixels; at most 50 are made/,
    );
    const text = path.join(dir, 'notes.png');
    fs.writeFileSync(text, 'not a picture');
    await assert.rejects(images.read(text), /'.*notes\.png' is not an image file \(13 bytes; valid: PNG, JPEG/);
  });
});

describe('images.read(url): size limit, time-outs, abort (a server on 127.0.0.1)', function () {
  this.timeout(120000);
  let server: http.Server;
  let base: string;
  const sockets = new Set<import('net').Socket>();

  before(async () => {
    server = http.createServer((req, res) => {
      if (req.url === '/endless') {
        res.writeHead(200, { 'Content-Type': 'image/png' });
        const piece = Buffer.alloc(256 * 1024, 7);
        const more = () => {
          while (res.write(piece));
        };
        res.on('drain', more);
        more();
      } else if (req.url === '/silent-after-start') {
        res.writeHead(200, { 'Content-Type': 'image/png' });
        res.write(Buffer.alloc(1000));
      } else if (req.url === '/declared-huge') {
        res.writeHead(200, { 'Content-Length': String(5e9) });
        res.write(Buffer.alloc(10));
      }
      // '/never': no answer at all
    });
    server.on('connection', (s) => {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  after(async () => {
    for (const s of sockets) s.destroy();
    await new Promise((r) => server.close(r));
  });

  it('an endless body stops at the size limit (default 40 MiB) with RSS growth under 200 MB', async () => {
    const rss0 = process.memoryUsage().rss;
    const { ticks, result } = await ticksDuring(images.read(`${base}/endless`));
    const grew = (process.memoryUsage().rss - rss0) / MB;
    assert.match(
      rejection(result),
      new RegExp(
        '^images\\.read: http://127\\.0\\.0\\.1:\\d+/endless sends more than 41943040 bytes; ' +
          'at most 41943040 are read \\(option maxBytes',
      ),
    );
    assert.ok(grew < 200, `RSS grew ${grew.toFixed(0)} MB`);
    assert.ok(ticks > 0, 'the event loop turned while the body streamed');
    await assert.rejects(images.read(`${base}/endless`, { maxBytes: MB }), /sends more than 1048576 bytes/);
    await assert.rejects(images.read(`${base}/declared-huge`), /sends 5000000000 bytes; at most 41943040/);
  });

  it('a server that never answers, or goes silent, gets the named time-out; an abort stops the read', async () => {
    const { ticks, result } = await ticksDuring(images.read(`${base}/never`, { timeoutMs: 400 }));
    assert.match(
      rejection(result),
      /^images\.read: could not fetch .*\/never: no answer within 0\.4 s \(option timeoutMs\)/,
    );
    assert.ok(ticks > 0);
    await assert.rejects(
      images.read(`${base}/silent-after-start`, { timeoutMs: 400 }),
      /could not fetch .*: no data within 0\.4 s/,
    );
    const controller = new AbortController();
    const reading = images.read(`${base}/endless`, { signal: controller.signal, maxBytes: 2 ** 31 - 1 });
    setTimeout(() => controller.abort(), 100);
    await assert.rejects(reading, /^Error: images\.read: could not fetch .*\/endless: aborted/);
    await assert.rejects(images.read(`${base}/never`, { timeoutMs: 0 }), /timeoutMs must be a number above 0/);
  });
});
