/**
 * A viewer page's keys (docs/e2ee.md "Keys"): its own ECDH key pair, made
 * once per page session and never sent anywhere but its public half, and
 * the media keys the creator wrapped for it (`e2ee:key`), unwrapped and
 * handed to the frame worker, which keeps the newest three.
 *
 * Independent of React and of the socket: the room page wires it (`sendHello`
 * emits `e2ee:hello`) and the unit tests drive it directly.
 */
import { fromBase64Url } from '@/lib/e2ee/bytes';
import { safetyNumberOfBase64 } from '@/lib/e2ee/safety-number';
import { deriveWrapKey, exportPublicKeyBase64, generateKeyPair, importPublicKey, unwrapMediaKey } from '@/lib/e2ee/wrap';

export type WrappedKey = { keyId: number; publicKey: string; wrapped: string };

export type ViewerKeysOptions = {
  roomId: string;
  cryptor: { setKey(keyId: number, key: Uint8Array<ArrayBuffer>): void };
  /** `e2ee:hello` with this page's public key. */
  sendHello: (publicKey: string) => Promise<unknown>;
  onChange?: () => void;
  /** Wait before asking again after a transient refusal (`rate_limited`, `timeout`). */
  retryDelayMs?: number;
};

const KEPT = 3;
/** Refusals worth one more try a little later; the others (no access, not live) are final. */
const TRANSIENT = new Set(['rate_limited', 'timeout', 'error']);
const HELLO_TRIES = 3;

export class ViewerKeys {
  private readonly keyPair = generateKeyPair();
  private creatorKey: { publicKey: string; wrapKey: Promise<CryptoKey> } | null = null;
  private readonly held: number[] = [];
  private closed = false;
  /** The creator's safety number, once a key came. */
  safetyNumber: string | null = null;
  /** Why the server refused the hello. */
  error: unknown = null;
  /** Wrapped keys that did not open (not for this page, or changed on the way): ignored. */
  rejectedKeys = 0;

  constructor(private readonly options: ViewerKeysOptions) {}

  /** Asks the creator for the key (again after `e2ee:ready`: the studio made new keys). */
  async hello(): Promise<void> {
    const { publicKey } = await this.keyPair;
    const encoded = await exportPublicKeyBase64(publicKey);
    for (let attempt = 1; attempt <= HELLO_TRIES && !this.closed; attempt += 1) {
      try {
        await this.options.sendHello(encoded);
        this.error = null;
        break;
      } catch (error) {
        this.error = error;
        const code = (error as { code?: unknown } | null)?.code;
        if (typeof code !== 'string' || !TRANSIENT.has(code) || attempt === HELLO_TRIES) break;
        await new Promise((resolve) => setTimeout(resolve, this.options.retryDelayMs ?? 2_000));
      }
    }
    this.changed();
  }

  /** `e2ee:key` for this page: unwrap and hand to the worker. A key that does not open is ignored. */
  async onKey({ keyId, publicKey, wrapped }: WrappedKey): Promise<void> {
    if (this.closed) return;
    try {
      if (this.creatorKey?.publicKey !== publicKey) {
        const { privateKey } = await this.keyPair;
        const wrapKey = importPublicKey(publicKey).then((peer) => deriveWrapKey(privateKey, peer, this.options.roomId));
        this.creatorKey = { publicKey, wrapKey };
        this.safetyNumber = await safetyNumberOfBase64(publicKey);
      }
      const mediaKey = await unwrapMediaKey(await this.creatorKey.wrapKey, this.options.roomId, keyId, fromBase64Url(wrapped));
      if (this.closed) return;
      this.options.cryptor.setKey(keyId, mediaKey);
      const at = this.held.indexOf(keyId);
      if (at >= 0) this.held.splice(at, 1);
      this.held.push(keyId);
      if (this.held.length > KEPT) this.held.splice(0, this.held.length - KEPT);
    } catch {
      this.rejectedKeys += 1;
    }
    this.changed();
  }

  /** The key ids this page holds, oldest first (at most three). */
  keyIds(): number[] {
    return [...this.held];
  }

  close(): void {
    this.closed = true;
  }

  private changed(): void {
    if (!this.closed) this.options.onChange?.();
  }
}
