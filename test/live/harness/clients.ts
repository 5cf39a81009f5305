// What the ALB does on the edge's behalf in the live suite: opens WebSockets and plain HTTP
// requests to an Envoy replica, and records what a client sees (status, headers, timing).
import { type IncomingHttpHeaders, request } from 'node:http';
import WebSocket from 'ws';

export interface Target {
  readonly address: string;
  readonly port: number;
}

/**
 * What the ALB adds: it appends the address it saw the client connect from to X-Forwarded-For (after
 * whatever the client sent there itself). Envoy trusts exactly that one hop. Unless a test names its
 * client, every request comes from a client address of its own, as if from a different user.
 */
export interface ClientOptions {
  /** The client's address as the ALB sees it. */
  readonly client?: string;
  /** X-Forwarded-For as the client itself sent it (a spoof), which the ALB keeps in front. */
  readonly spoofedXff?: string;
  readonly origin?: string;
  readonly headers?: Record<string, string>;
}

let clientsSeen = 0;

/** A fresh client address (198.18.0.0/15, the benchmarking range: never a real client). */
export function newClientAddress(): string {
  const n = clientsSeen++;
  return `198.18.${Math.floor(n / 250) % 250}.${(n % 250) + 1}`;
}

/** The headers the stand-in ALB sends for a client. */
export function albHeaders(opts: ClientOptions = {}): Record<string, string> {
  const client = opts.client ?? newClientAddress();
  return {
    ...opts.headers,
    'x-forwarded-for': opts.spoofedXff ? `${opts.spoofedXff}, ${client}` : client,
    ...(opts.origin ? { origin: opts.origin } : {}),
  };
}

export interface UpgradeResult {
  /** 101 when the upgrade succeeded; otherwise Envoy's status (429, 503, …), or 0 on a network error. */
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  /** The backend pod that accepted the upgrade (from its x-pod header). */
  readonly pod?: string;
  readonly ms: number;
  /** The open WebSocket, for a 101. */
  readonly socket?: WebSocket;
}

/** Opens a WebSocket through Envoy and resolves when the server answers, whatever the answer. */
export function upgrade(target: Target, path = '/', opts: ClientOptions & { maxPayload?: number } = {}): Promise<UpgradeResult> {
  const start = performance.now();
  return new Promise((resolve) => {
    const socket = new WebSocket(`ws://${target.address}:${target.port}${path}`, {
      handshakeTimeout: 60_000,
      headers: albHeaders(opts),
      ...(opts.maxPayload ? { maxPayload: opts.maxPayload } : {}),
    });
    let headers: IncomingHttpHeaders = {};
    socket.on('upgrade', (res) => (headers = res.headers));
    socket.on('open', () => resolve({ status: 101, headers, pod: headers['x-pod'] as string, ms: performance.now() - start, socket }));
    socket.on('unexpected-response', (_req, res) => {
      res.resume();
      resolve({ status: res.statusCode ?? 0, headers: res.headers, ms: performance.now() - start });
      socket.terminate();
    });
    socket.on('error', () => resolve({ status: 0, headers: {}, ms: performance.now() - start }));
  });
}

/** Sends a message and resolves with the echo. */
export function echo(socket: WebSocket, message: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const onClose = () => reject(new Error('socket closed before the echo'));
    socket.once('message', (data) => {
      socket.off('close', onClose);
      resolve(data.toString());
    });
    socket.once('close', onClose);
    socket.send(message);
  });
}

/** Resolves with the close code and how long after `since` the socket closed. */
export function closed(socket: WebSocket, since = performance.now()): Promise<{ code: number; ms: number }> {
  return new Promise((resolve) => {
    if (socket.readyState === WebSocket.CLOSED) resolve({ code: 1006, ms: 0 });
    socket.once('close', (code) => resolve({ code, ms: performance.now() - since }));
  });
}

/** Closes cleanly and waits until both sides are done. */
export async function closeAll(sockets: readonly (WebSocket | undefined)[]): Promise<void> {
  await Promise.all(
    sockets.map((s) => {
      if (!s || s.readyState === WebSocket.CLOSED) return Promise.resolve();
      const done = closed(s);
      s.close(1000);
      return done;
    }),
  );
}

export interface HttpResult {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
  readonly ms: number;
}

/** A plain HTTP request (no upgrade), on a new connection. */
export function httpRequest(target: Target, path: string, method = 'GET', timeoutMs = 60_000, opts: ClientOptions = {}): Promise<HttpResult> {
  const start = performance.now();
  return new Promise((resolve) => {
    const req = request({ host: target.address, port: target.port, path, method, agent: false, timeout: timeoutMs, headers: albHeaders(opts) }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (c) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body, ms: performance.now() - start }));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', () => resolve({ status: 0, headers: {}, body: '', ms: performance.now() - start }));
    req.end();
  });
}
