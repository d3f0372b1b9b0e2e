import type { IncomingMessage, ServerResponse } from 'node:http';
import type { z } from 'zod';

export type ApiErrorCode = 'bad-request' | 'unauthenticated' | 'forbidden' | 'not-found' | 'conflict' | 'too-large' | 'rate-limited' | 'internal';

const statusOf: Record<ApiErrorCode, number> = {
  'bad-request': 400,
  unauthenticated: 401,
  forbidden: 403,
  'not-found': 404,
  conflict: 409,
  'too-large': 413,
  'rate-limited': 429,
  internal: 500,
};

/** An API error as a value: handlers return it, the router writes it. */
export class ApiError {
  constructor(
    readonly code: ApiErrorCode,
    readonly message: string,
    readonly details?: unknown,
  ) {}
  get status(): number {
    return statusOf[this.code];
  }
}

const commonHeaders = {
  'cache-control': 'no-store',
  'x-content-type-options': 'nosniff',
};

export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { ...commonHeaders, 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

export function sendError(res: ServerResponse, error: ApiError): void {
  sendJson(res, error.status, { error: { code: error.code, message: error.message, ...(error.details !== undefined ? { details: error.details } : {}) } });
}

/**
 * A request body as UTF-8 text, refused past `limit` bytes (by its declared length when given,
 * else as it arrives); `what` names it in the error ("the body", "the file").
 */
export function readTextBody(req: IncomingMessage, limit: number, what = 'the body'): Promise<string | ApiError> {
  return new Promise((resolve) => {
    const tooLarge = () => new ApiError('too-large', `${what} is over ${limit} bytes`);
    const declared = Number(req.headers['content-length']);
    if (Number.isFinite(declared) && declared > limit) {
      req.resume();
      resolve(tooLarge());
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    let done = false;
    req.on('data', (chunk: Buffer) => {
      if (done) return;
      size += chunk.length;
      if (size > limit) {
        done = true;
        resolve(tooLarge());
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => {
      if (done) return;
      done = true;
      resolve(Buffer.concat(chunks).toString('utf8'));
    });
    req.on('error', () => {
      if (!done) resolve(new ApiError('bad-request', 'the request body could not be read'));
      done = true;
    });
  });
}

/** The JSON body (undefined when empty), refused past `limit` bytes. */
export async function readJsonBody(req: IncomingMessage, limit: number): Promise<unknown | ApiError> {
  const text = await readTextBody(req, limit);
  if (text instanceof ApiError) return text;
  if (text.trim() === '') return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch (e) {
    return new ApiError('bad-request', `the body is not JSON: ${(e as Error).message}`);
  }
}

/** Validates with a zod schema; a failure is a 400 that lists what is wrong and where. */
export function validate<T extends z.ZodTypeAny>(schema: T, value: unknown): z.infer<T> | ApiError {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  return new ApiError(
    'bad-request',
    'the request is not valid',
    result.error.issues.slice(0, 20).map((i) => ({ path: i.path.map(String).join('.'), message: i.message })),
  );
}

export function clientIp(req: IncomingMessage): string | null {
  return req.socket.remoteAddress ?? null;
}
