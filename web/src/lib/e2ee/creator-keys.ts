/**
 * The creator's key manager (docs/e2ee.md "Keys" and "Rotation"): makes the
 * studio's ECDH key pair and the room's media keys, wraps the current key
 * for every viewer page that asks (`e2ee:request`, relayed by the server
 * after it checked the viewer's access), and rotates:
 *
 * - on `e2ee:revoke` (a ban) and when a viewer leaves: that viewer's pages are
 *   forgotten, a new key goes to every remaining holder, and the sender
 *   switches to it `switchDelayMs` later, so holders have it before the first
 *   frame sealed with it arrives and nobody sees a glitch;
 * - every `rotateEveryMs` (10 minutes).
 *
 * Independent of React and of the socket: the studio wires it (`send` emits
 * the events) and the unit tests drive it directly.
 */
import { toBase64Url } from '@/lib/e2ee/bytes';
import { safetyNumber } from '@/lib/e2ee/safety-number';
import { deriveWrapKey, exportPublicKey, generateKeyPair, generateMediaKey, importPublicKey, wrapMediaKey } from '@/lib/e2ee/wrap';

export type KeyRequest = { viewerId: string; socketId: string; publicKey: string };

export type KeyDelivery = { viewerId: string; socketId: string; keyId: number; publicKey: string; wrapped: string };

export type CreatorKeysOptions = {
  roomId: string;
  /** The frame worker: `setKey` makes a key usable, `useKey` switches the sender to it. */
  cryptor: { setKey(keyId: number, key: Uint8Array<ArrayBuffer>): void; useKey(keyId: number): void };
  /** `e2ee:ready` with the studio's public key. */
  sendReady: (publicKey: string) => Promise<unknown>;
  /** `e2ee:key` for one viewer page; rejects with the server's refusal (an error with a `code`). */
  sendKey: (delivery: KeyDelivery) => Promise<unknown>;
  switchDelayMs?: number;
  rotateEveryMs?: number;
  /** Called when the current key, the holders or the safety number change. */
  onChange?: () => void;
};

type MediaKey = { keyId: number; key: Uint8Array<ArrayBuffer> };
type Holder = { viewerId: string; socketId: string; wrapKey: Promise<CryptoKey> };

/** Refusals meaning the viewer may not have keys any more: forget the page. */
const LOST_ACCESS = new Set(['forbidden', 'banned', 'payment_required', 'not_in_room', 'room_not_live']);

// Keys reach viewers within tens of milliseconds of the server's ack; the
// margin covers a slow unwrap without keeping a banned viewer long.
export const SWITCH_DELAY_MS = 250;
export const ROTATE_EVERY_MS = 10 * 60_000;

export class CreatorKeys {
  private keyPair: CryptoKeyPair | null = null;
  private publicKeyBase64 = '';
  private current: MediaKey | null = null;
  private next: MediaKey | null = null;
  private readonly holders = new Map<string, Holder>();
  private rotating: Promise<void> | null = null;
  private again = false;
  private timer: ReturnType<typeof setInterval> | undefined;
  private stopped = false;
  /** Shown in the studio; `null` until started. */
  safetyNumber: string | null = null;
  /** Every key id this studio has sealed frames with, oldest first (diagnostics). */
  readonly usedKeyIds: number[] = [];

  constructor(private readonly options: CreatorKeysOptions) {}

  /** Makes the key pair and the first media key and seals with it (`announce` tells the room). */
  async start(): Promise<void> {
    this.keyPair = await generateKeyPair();
    const raw = await exportPublicKey(this.keyPair.publicKey);
    this.publicKeyBase64 = toBase64Url(raw);
    this.safetyNumber = await safetyNumber(raw);
    const first = { keyId: 0, key: generateMediaKey() };
    this.options.cryptor.setKey(first.keyId, first.key);
    this.options.cryptor.useKey(first.keyId);
    this.current = first;
    this.usedKeyIds.push(first.keyId);
    this.changed();
    const every = this.options.rotateEveryMs ?? ROTATE_EVERY_MS;
    this.timer = setInterval(() => void this.rotate(), every);
  }

  /** `e2ee:ready`: viewer pages in the room (say hello again and) get keys. */
  announce(): Promise<unknown> {
    return this.options.sendReady(this.publicKeyBase64);
  }

  stop(): void {
    this.stopped = true;
    clearInterval(this.timer);
    this.holders.clear();
  }

  get publicKey(): string {
    return this.publicKeyBase64;
  }

  get currentKeyId(): number | null {
    return this.current?.keyId ?? null;
  }

  /** The key ids the studio can seal with now (the current one and one about to be used). */
  keyIds(): number[] {
    return [this.current, this.next].filter((k): k is MediaKey => k !== null).map((k) => k.keyId);
  }

  get holderCount(): number {
    return this.holders.size;
  }

  /** `e2ee:request`: wraps the current key (and the next one, mid-rotation) for that page. */
  async onRequest(request: KeyRequest): Promise<void> {
    if (this.stopped || !this.keyPair) return;
    const privateKey = this.keyPair.privateKey;
    const holder: Holder = {
      viewerId: request.viewerId,
      socketId: request.socketId,
      wrapKey: importPublicKey(request.publicKey).then((peer) => deriveWrapKey(privateKey, peer, this.options.roomId)),
    };
    this.holders.set(request.socketId, holder);
    this.changed();
    for (const key of [this.current, this.next]) {
      if (key) await this.deliver(holder, key);
    }
  }

  /** `e2ee:revoke` (a ban or lost access): forget the user's pages and rotate at once. */
  onRevoke(userId: string): Promise<void> {
    this.forget(userId);
    return this.rotate();
  }

  /** A viewer left the room: their pages keep no key to the rest of the session. */
  onViewerLeft(userId: string): Promise<void> {
    return this.forget(userId) ? this.rotate() : Promise.resolve();
  }

  private forget(userId: string): boolean {
    let any = false;
    for (const [socketId, holder] of this.holders) {
      if (holder.viewerId === userId) {
        this.holders.delete(socketId);
        any = true;
      }
    }
    if (any) this.changed();
    return any;
  }

  /** A new key: to every holder first, then used. Rotations asked for meanwhile run once more after it. */
  rotate(): Promise<void> {
    if (this.rotating) {
      this.again = true;
      return this.rotating;
    }
    this.rotating = (async () => {
      do {
        this.again = false;
        await this.rotateOnce();
      } while (this.again && !this.stopped);
    })().finally(() => {
      this.rotating = null;
    });
    return this.rotating;
  }

  private async rotateOnce(): Promise<void> {
    if (this.stopped || !this.current) return;
    const next = { keyId: (this.current.keyId + 1) % 256, key: generateMediaKey() };
    this.next = next;
    this.options.cryptor.setKey(next.keyId, next.key);
    await Promise.all([...this.holders.values()].map((holder) => this.deliver(holder, next)));
    await new Promise((resolve) => setTimeout(resolve, this.options.switchDelayMs ?? SWITCH_DELAY_MS));
    if (this.stopped) return;
    this.options.cryptor.useKey(next.keyId);
    this.current = next;
    this.next = null;
    this.usedKeyIds.push(next.keyId);
    this.changed();
  }

  private async deliver(holder: Holder, key: MediaKey): Promise<void> {
    try {
      const wrapped = await wrapMediaKey(await holder.wrapKey, this.options.roomId, key.keyId, key.key);
      if (this.holders.get(holder.socketId) !== holder) return; // forgotten meanwhile
      await this.options.sendKey({
        viewerId: holder.viewerId,
        socketId: holder.socketId,
        keyId: key.keyId,
        publicKey: this.publicKeyBase64,
        wrapped: toBase64Url(wrapped),
      });
    } catch (error) {
      // The server's refusal says the viewer lost access; an error without a
      // code is a public key that is no P-256 point. Either way: no more keys
      // for that page. Anything else (a timeout) keeps it for the next key.
      const code = (error as { code?: unknown } | null)?.code;
      if (typeof code !== 'string' || LOST_ACCESS.has(code)) {
        this.holders.delete(holder.socketId);
        this.changed();
      }
    }
  }

  private changed(): void {
    if (!this.stopped) this.options.onChange?.();
  }
}
