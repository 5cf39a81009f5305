// What the ALB does on the edge's behalf in the live suite: opens WebSockets and plain HTTP
// requests to an Envoy replica, and records what a client sees (status, headers, timing).
import { IncomingHttpHeaders, request } from 'node:http';
import WebSocket from 'ws';

export interface Target {
  readonly address: string;
  readonly port: number;
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
export function upgrade(target: Target, path = '/'): Promise<UpgradeResult> {
  const start = performance.now();
  return new Promise((resolve) => {
    const socket = new WebSocket(`ws://${target.address}:${target.port}${path}`, { handshakeTimeout: 60_000 });
    let headers: IncomingHttpHeaders = {};
    socket.on('upgrade', (res) => (headers = res.headers));
    socket.on('open', () =>
      resolve({ status: 101, headers, pod: headers['x-pod'] as string, ms: performance.now() - start, socket }),
    );
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
export function httpRequest(target: Target, path: string, method = 'GET', timeoutMs = 60_000): Promise<HttpResult> {
  const start = performance.now();
  return new Promise((resolve) => {
    const req = request({ host: target.address, port: target.port, path, method, agent: false, timeout: timeoutMs }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (c) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body, ms: performance.now() - start }));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', () => resolve({ status: 0, headers: {}, body: '', ms: performance.now() - start }));
    req.end();
  });
}
