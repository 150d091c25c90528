import { useState } from 'react';

import { Alert } from '@/components/ui/alert';
import { Button } from '@/components/ui/button';
import { Card } from '@/components/ui/card';
import { Input } from '@/components/ui/form';
import { Skeleton } from '@/components/ui/skeleton';
import { useStreamKey } from '@/features/studio/api/get-stream-key';
import { useRotateStreamKey } from '@/features/studio/api/rotate-stream-key';
import { errorMessage } from '@/lib/api-client';

function CopyButton({ value, what }: { value: string; what: string }) {
  const [copied, setCopied] = useState(false);
  const copy = () => {
    navigator.clipboard.writeText(value).then(
      () => {
        setCopied(true);
        setTimeout(() => setCopied(false), 2_000);
      },
      () => setCopied(false),
    );
  };
  return (
    <Button variant="secondary" size="sm" onClick={copy} aria-label={`Copy ${what}`} className="h-10">
      <span aria-live="polite">{copied ? 'Copied' : 'Copy'}</span>
    </Button>
  );
}

/** What OBS (or any WHIP client, RFC 9725) needs: the WHIP URL and the stream key as bearer token. */
export function ObsPanel({ roomId, e2ee = false }: { roomId: string; e2ee?: boolean }) {
  const key = useStreamKey(roomId);
  const whipUrl = `${window.location.origin}${key.data?.whipPath ?? `/api/media/whip/${roomId}`}`;
  const rotate = useRotateStreamKey(roomId);
  const [revealed, setRevealed] = useState(false);

  return (
    <Card title="Stream with OBS">
      <div className="space-y-3 text-sm">
        {e2ee && (
          <Alert tone="warning" title="Not for this room while it is end-to-end encrypted">
            OBS and other WHIP clients cannot encrypt frames, so the server refuses them in an end-to-end encrypted
            room. Go live from this page with your camera, or turn encryption off in the room settings.
          </Alert>
        )}
        <p className="text-zinc-600 dark:text-zinc-400">
          In OBS: Settings → Stream → Service “WHIP”. Paste the server URL and the stream key as the bearer token.
        </p>
        <div className="space-y-1">
          <label htmlFor="whip-url" className="block font-medium">
            WHIP server URL
          </label>
          <div className="flex gap-2">
            <Input id="whip-url" readOnly value={whipUrl} onFocus={(e) => e.target.select()} className="font-mono text-xs" />
            <CopyButton value={whipUrl} what="WHIP URL" />
          </div>
        </div>
        <div className="space-y-1">
          <label htmlFor="stream-key" className="block font-medium">
            Stream key
          </label>
          {key.isPending ? (
            <Skeleton className="h-10" />
          ) : key.isError ? (
            <Alert tone="error">{errorMessage(key.error)}</Alert>
          ) : key.data === null ? (
            <p className="rounded-lg border border-dashed border-zinc-300 px-3 py-2 text-zinc-600 dark:border-zinc-700 dark:text-zinc-400">
              Stream keys are not available on this server yet. Go live from the browser instead.
            </p>
          ) : (
            <>
              <div className="flex flex-wrap gap-2">
                <Input
                  id="stream-key"
                  readOnly
                  type={revealed ? 'text' : 'password'}
                  value={key.data.streamKey}
                  onFocus={(e) => e.target.select()}
                  className="min-w-0 flex-1 font-mono text-xs"
                />
                <Button variant="secondary" size="sm" className="h-10" onClick={() => setRevealed((r) => !r)} aria-pressed={revealed}>
                  {revealed ? 'Hide' : 'Show'}
                </Button>
                <CopyButton value={key.data.streamKey} what="stream key" />
                <Button
                  variant="secondary"
                  size="sm"
                  className="h-10"
                  isLoading={rotate.isPending}
                  onClick={() => {
                    if (window.confirm('Make a new stream key? The current one stops working.')) rotate.mutate();
                  }}
                >
                  Rotate
                </Button>
              </div>
              <p className="text-xs text-zinc-500 dark:text-zinc-400">Keep it secret: anyone with the key can stream to this room.</p>
              {rotate.isError && <Alert tone="error">{errorMessage(rotate.error)}</Alert>}
            </>
          )}
        </div>
      </div>
    </Card>
  );
}
