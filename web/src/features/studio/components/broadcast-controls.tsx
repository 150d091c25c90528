import { Alert } from '@/components/ui/alert';
import { Button } from '@/components/ui/button';
import type { Broadcast } from '@/lib/broadcast/use-broadcast';

type BroadcastControlsProps = Pick<
  Broadcast,
  | 'muted'
  | 'setMuted'
  | 'cameraOff'
  | 'setCameraOff'
  | 'screenShareSupported'
  | 'sharingScreen'
  | 'screenError'
  | 'startScreenShare'
  | 'stopScreenShare'
>;

/** While publishing: mute, camera off and screen share, each a toggle a screen reader hears as pressed or not. */
export function BroadcastControls({
  muted,
  setMuted,
  cameraOff,
  setCameraOff,
  screenShareSupported,
  sharingScreen,
  screenError,
  startScreenShare,
  stopScreenShare,
}: BroadcastControlsProps) {
  return (
    <div className="space-y-2">
      <div className="flex flex-wrap gap-2" role="group" aria-label="Broadcast controls">
        <Button variant="secondary" aria-pressed={muted} onClick={() => setMuted(!muted)}>
          {muted ? 'Unmute microphone' : 'Mute microphone'}
        </Button>
        <Button variant="secondary" aria-pressed={cameraOff} onClick={() => setCameraOff(!cameraOff)}>
          {cameraOff ? 'Turn camera back on' : 'Hide camera'}
        </Button>
        {screenShareSupported && (
          <Button
            variant="secondary"
            aria-pressed={sharingScreen}
            onClick={() => void (sharingScreen ? stopScreenShare() : startScreenShare())}
          >
            {sharingScreen ? 'Stop sharing screen' : 'Share screen'}
          </Button>
        )}
      </div>
      {(muted || cameraOff) && (
        <p className="text-sm text-amber-700 dark:text-amber-300" data-testid="broadcast-muted-state">
          {muted && cameraOff
            ? 'Viewers neither see nor hear you.'
            : muted
              ? 'Viewers cannot hear you.'
              : 'Viewers see a black picture.'}
        </p>
      )}
      {screenError && <Alert tone="error">{screenError}</Alert>}
    </div>
  );
}
