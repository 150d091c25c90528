/**
 * A stand-in for the socket.io-client `Socket`: tests answer the app's
 * emits (`onEmit`) and push server events (`serverEmit`).
 */
import type { SocketLike } from '@/lib/socket';

type Handler = (...args: never[]) => void;
type AckReply = (payload: unknown) => unknown;

export class FakeSocket implements SocketLike {
  connected = true;
  active = true;
  /** Every emit the app made: event name and payload. */
  readonly emitted: Array<{ event: string; payload: unknown }> = [];
  private listeners = new Map<string, Set<Handler>>();
  private replies = new Map<string, AckReply>();

  on(event: string, listener: Handler): this {
    if (!this.listeners.has(event)) this.listeners.set(event, new Set());
    this.listeners.get(event)!.add(listener);
    return this;
  }

  off(event: string, listener: Handler): this {
    this.listeners.get(event)?.delete(listener);
    return this;
  }

  emit(event: string, ...args: unknown[]): this {
    const [payload, ack] = args;
    this.emitted.push({ event, payload });
    const reply = this.replies.get(event);
    if (typeof ack === 'function') {
      // An answer the test did not set up never comes (like a silent server).
      if (reply) {
        const answer = reply(payload);
        queueMicrotask(() => (ack as (a: unknown) => void)(answer));
      }
    }
    return this;
  }

  connect(): this {
    this.connected = true;
    return this;
  }

  disconnect(): this {
    this.connected = false;
    return this;
  }

  /** How the fake server acknowledges `event`. */
  onEmit(event: string, reply: AckReply): void {
    this.replies.set(event, reply);
  }

  /** A server-to-client event. */
  serverEmit(event: string, payload: unknown): void {
    for (const listener of this.listeners.get(event) ?? []) {
      (listener as (p: unknown) => void)(payload);
    }
  }

  emitsOf(event: string): unknown[] {
    return this.emitted.filter((e) => e.event === event).map((e) => e.payload);
  }
}
