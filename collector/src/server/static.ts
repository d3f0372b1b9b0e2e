import * as fs from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import * as path from 'node:path';

const contentTypes: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.gif': 'image/gif',
  '.ico': 'image/x-icon',
  '.webp': 'image/webp',
  '.woff': 'font/woff',
  '.woff2': 'font/woff2',
  '.ttf': 'font/ttf',
  '.txt': 'text/plain; charset=utf-8',
  '.wasm': 'application/wasm',
};

const securityHeaders = {
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
};

const notBuiltPage = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Vigie collector</title></head>
<body><h1>Vigie collector</h1><p>The console UI is not built. Build it (console/dist/renderer) or start the collector with <code>--ui DIR</code>.
The API is at <code>/api/v1</code>.</p></body></html>`;

/**
 * Serves the console's single-page app: files under `root`, and index.html for
 * any other path without an extension so client-side routes survive a reload.
 * A path that resolves outside `root` is never served.
 */
export function createStaticHandler(root: string | null) {
  const base = root ? path.resolve(root) : null;
  return function serve(req: IncomingMessage, res: ServerResponse, pathname: string): void {
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { ...securityHeaders, allow: 'GET, HEAD', 'content-type': 'text/plain; charset=utf-8' });
      res.end('method not allowed\n');
      return;
    }
    if (!base) {
      res.writeHead(200, { ...securityHeaders, 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
      res.end(req.method === 'HEAD' ? undefined : notBuiltPage);
      return;
    }
    let decoded: string;
    try {
      decoded = decodeURIComponent(pathname);
    } catch {
      res.writeHead(400, securityHeaders).end();
      return;
    }
    if (decoded.includes('\0')) {
      res.writeHead(400, securityHeaders).end();
      return;
    }
    const file = path.resolve(base, `.${path.posix.normalize(`/${decoded}`)}`);
    const rel = path.relative(base, file);
    if (rel.startsWith('..') || path.isAbsolute(rel)) {
      res.writeHead(404, securityHeaders).end();
      return;
    }
    const candidate = resolveFile(file) ?? (path.extname(decoded) === '' ? resolveFile(path.join(base, 'index.html')) : null);
    if (!candidate) {
      res.writeHead(404, { ...securityHeaders, 'content-type': 'text/plain; charset=utf-8' });
      res.end('not found\n');
      return;
    }
    // A symbolic link inside the UI directory must not lead outside it either.
    const real = fs.realpathSync(candidate);
    const realRel = path.relative(fs.realpathSync(base), real);
    if (realRel.startsWith('..') || path.isAbsolute(realRel)) {
      res.writeHead(404, securityHeaders).end();
      return;
    }
    const type = contentTypes[path.extname(candidate).toLowerCase()] ?? 'application/octet-stream';
    const stat = fs.statSync(candidate);
    // Hashed asset names can be cached for long; index.html must be fetched fresh to pick up a new build.
    const cache = path.basename(candidate) === 'index.html' ? 'no-cache' : 'public, max-age=3600';
    res.writeHead(200, { ...securityHeaders, 'content-type': type, 'content-length': stat.size, 'cache-control': cache });
    if (req.method === 'HEAD') {
      res.end();
      return;
    }
    fs.createReadStream(candidate).on('error', () => res.destroy()).pipe(res);
  };
}

function resolveFile(file: string): string | null {
  try {
    const stat = fs.statSync(file);
    if (stat.isFile()) return file;
    if (stat.isDirectory()) {
      const index = path.join(file, 'index.html');
      return fs.statSync(index).isFile() ? index : null;
    }
  } catch {
    // Not there: the caller falls back or answers 404.
  }
  return null;
}
