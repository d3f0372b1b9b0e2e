import type { Socket } from 'node:net';
import type { RawData, WebSocket } from 'ws';
import type { ParsedFrame } from './frame-parser';

/** A frame as its connection hands it over: its bytes, or already parsed (an agent listener process parses what it relays). */
export type IncomingFrame = { kind: 'raw'; data: RawData; isBinary: boolean } | { kind: 'parsed'; parsed: ParsedFrame };

/**
 * What an agent session needs from its connection. The WebSocket is either in this
 * process (wsConnection) or held by an agent listener process, which relays its
 * frames (agent-listener/pool.ts): the session works the same on both.
 */
export interface AgentConnection {
  readonly open: boolean;
  onFrame(listener: (frame: IncomingFrame) => void): void;
  onClose(listener: () => void): void;
  /** Text frames sent together: one write, one TLS record where the transport allows. */
  send(frames: string[]): void;
  close(code: number, reason: string): void;
  /**
   * For a connection whose frames are parsed before they arrive: the stored facts' hash that the
   * next full reports are expected to repeat (checked by hash instead of validated again), or none.
   */
  expectFacts?(hash: string | undefined): void;
}

/** A WebSocket of this process; `socket` is the upgrade request's, corked around frames sent together. */
export function wsConnection(ws: WebSocket, socket: Pick<Socket, 'cork' | 'uncork'>): AgentConnection {
  return {
    get open() {
      return ws.readyState === ws.OPEN;
    },
    onFrame: (listener) => ws.on('message', (data, isBinary) => listener({ kind: 'raw', data, isBinary })),
    onClose: (listener) => ws.on('close', listener),
    send(frames) {
      if (ws.readyState !== ws.OPEN) return;
      if (frames.length === 1) return ws.send(frames[0] as string);
      socket.cork();
      try {
        for (const frame of frames) ws.send(frame);
      } finally {
        socket.uncork();
      }
    },
    close: (code, reason) => ws.close(code, reason),
  };
}
