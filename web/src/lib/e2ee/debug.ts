/**
 * Test-only diagnostics (docs/e2ee.md "Diagnostics"): on a page in an E2EE
 * room, `window.__streamshareE2ee` reads key ids and frame counters, so the
 * end-to-end journey can check that frames decrypt and keys rotate. Key ids
 * and counts only: never a key, never a wrapped key.
 */
import type { FrameStats } from '@/lib/e2ee/protocol';

export type E2eeDiagnostics = {
  role: 'creator' | 'viewer';
  /** Key ids held (viewer) or usable (creator). */
  keyIds(): number[];
  /** The key id frames are sealed with now (creator) or the last frame opened was (viewer). */
  currentKeyId(): number | null;
  readonly framesEncrypted: number;
  readonly framesDecrypted: number;
  readonly framesDropped: number;
  /** All the worker's counters (`FrameStats`). */
  stats(): FrameStats;
};

declare global {
  interface Window {
    __streamshareE2ee?: E2eeDiagnostics;
  }
}

export type DiagnosticsSource = {
  role: 'creator' | 'viewer';
  keyIds(): number[];
  currentKeyId(): number | null;
  stats(): FrameStats;
};

/** Installs the diagnostics for `source`; the returned function removes them (if still its own). */
export function exposeE2eeDiagnostics(source: DiagnosticsSource): () => void {
  if (typeof window === 'undefined') return () => undefined;
  const diagnostics: E2eeDiagnostics = {
    role: source.role,
    keyIds: () => source.keyIds(),
    currentKeyId: () => source.currentKeyId(),
    get framesEncrypted() {
      return source.stats().framesEncrypted;
    },
    get framesDecrypted() {
      return source.stats().framesDecrypted;
    },
    get framesDropped() {
      return source.stats().framesDropped;
    },
    stats: () => ({ ...source.stats() }),
  };
  window.__streamshareE2ee = diagnostics;
  return () => {
    if (window.__streamshareE2ee === diagnostics) delete window.__streamshareE2ee;
  };
}
