/** The broadcast's context and the hook the studio, the header's live bar and tests read it with. */
import { createContext, use } from 'react';

import type { CreatorE2eeState } from '@/lib/broadcast/creator-e2ee';
import type { PublishState } from '@/lib/broadcast/publisher';
import type { OutgoingStats } from '@/lib/broadcast/stats';

export type Broadcast = {
  /** The room published (or last published) from this browser. */
  roomId: string | null;
  roomTitle: string | null;
  /** The camera and microphone (the preview), once turned on. */
  stream: MediaStream | null;
  /** The shared screen, while it is sent in place of the camera. */
  screen: MediaStream | null;
  previewError: string | null;
  opening: boolean;
  /** Opens (or reopens) the camera and microphone; while publishing the new tracks are sent at once. */
  openDevices: (cameraId: string | null, microphoneId: string | null) => Promise<MediaStream | null>;
  closePreview: () => void;
  /** Turns the camera off unless it is being published (the studio page was left). */
  releaseIfIdle: () => void;
  state: PublishState;
  error: string | null;
  publishing: boolean;
  /** Publishes the preview into `room` (its E2EE mode decides the frame encryption). */
  publish: (room: { id: string; title: string; e2ee: boolean }) => Promise<boolean>;
  stop: () => void;
  e2ee: CreatorE2eeState | null;
  muted: boolean;
  setMuted: (muted: boolean) => void;
  cameraOff: boolean;
  setCameraOff: (off: boolean) => void;
  /** Paused for the creator's private session (`room:private`). */
  paused: boolean;
  screenShareSupported: boolean;
  sharingScreen: boolean;
  screenError: string | null;
  startScreenShare: () => Promise<void>;
  stopScreenShare: () => Promise<void>;
  /** Viewers now, while publishing. */
  viewerCount: number | null;
  /** The most viewers at once since this browser started publishing. */
  peakViewers: number;
  stats: OutgoingStats | null;
};

export const BroadcastContext = createContext<Broadcast | null>(null);

export function useBroadcast(): Broadcast {
  const broadcast = use(BroadcastContext);
  if (!broadcast) throw new Error('useBroadcast needs a BroadcastProvider above it.');
  return broadcast;
}
