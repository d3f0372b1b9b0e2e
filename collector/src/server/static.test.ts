import * as fs from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import * as os from 'node:os';
import * as path from 'node:path';
import { PassThrough } from 'node:stream';
import { createStaticHandler } from './static';

/** Calls the handler with a fake request and collects the response. */
function get(handler: ReturnType<typeof createStaticHandler>, pathname: string, method = 'GET') {
  return new Promise<{ status: number; headers: Record<string, unknown>; body: string }>((resolve) => {
    const sink = new PassThrough();
    const chunks: Buffer[] = [];
    let status = 0;
    let headers: Record<string, unknown> = {};
    const res = Object.assign(sink, {
      writeHead(code: number, h: Record<string, unknown> = {}) {
        status = code;
        headers = h;
        return res;
      },
    }) as unknown as ServerResponse;
    sink.on('data', (c: Buffer) => chunks.push(c));
    sink.on('end', () => resolve({ status, headers, body: Buffer.concat(chunks).toString('utf8') }));
    handler({ method } as IncomingMessage, res, pathname);
  });
}

describe('static console files', () => {
  let root: string;
  let outside: string;
  beforeAll(() => {
    const base = fs.mkdtempSync(path.join(os.tmpdir(), 'vigie-ui-'));
    root = path.join(base, 'renderer');
    outside = path.join(base, 'secret.txt');
    fs.mkdirSync(path.join(root, 'assets'), { recursive: true });
    fs.writeFileSync(path.join(root, 'index.html'), '<!doctype html><title>Vigie</title>');
    fs.writeFileSync(path.join(root, 'assets', 'app-1234.js'), 'console.log(1)');
    fs.writeFileSync(outside, 'top secret');
    fs.symlinkSync(outside, path.join(root, 'link.txt'));
  });
  afterAll(() => fs.rmSync(path.dirname(root), { recursive: true, force: true }));

  it('serves files with their content type, and index.html for app routes', async () => {
    const serve = createStaticHandler(root);
    const js = await get(serve, '/assets/app-1234.js');
    expect(js).toMatchObject({ status: 200, body: 'console.log(1)', headers: { 'content-type': 'text/javascript; charset=utf-8', 'x-content-type-options': 'nosniff' } });
    expect((await get(serve, '/')).body).toContain('<title>Vigie</title>');
    expect(await get(serve, '/devices/abc')).toMatchObject({ status: 200, headers: { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-cache' } });
    expect((await get(serve, '/assets/missing.js')).status).toBe(404);
    expect((await get(serve, '/', 'POST')).status).toBe(405);
  });

  it('never serves a file outside the UI directory', async () => {
    const serve = createStaticHandler(root);
    for (const p of ['/../secret.txt', '/%2e%2e/secret.txt', '/assets/..%2f..%2fsecret.txt', '/link.txt', '/%00']) {
      const res = await get(serve, p);
      expect([res.status, res.body]).not.toEqual([200, 'top secret']);
      expect(res.body).not.toContain('top secret');
    }
  });

  it('says the UI is not built when there is none', async () => {
    const res = await get(createStaticHandler(null), '/');
    expect(res.status).toBe(200);
    expect(res.body).toMatch(/not built/);
  });
});
