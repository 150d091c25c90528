import { Spinner } from '@/components/ui/spinner';
import { formatCountdown } from '@/lib/format';
import { useSecondsLeft } from '@/lib/hooks';

/**
 * Over the player while the creator's media is gone (`room:away`): an opaque
 * card rather than the last frozen frame, with the time left before the
 * server ends the session.
 */
export function AwayNotice({ awayUntil }: { awayUntil: string }) {
  const left = useSecondsLeft(awayUntil);
  return (
    <div
      data-testid="room-away-overlay"
      className="absolute inset-0 flex flex-col items-center justify-center gap-2 bg-zinc-950 p-4 text-center text-white"
    >
      <Spinner label="Waiting for the creator" />
      <p className="text-lg font-semibold">The creator is reconnecting…</p>
      <p className="text-sm text-zinc-300" data-testid="room-away-countdown">
        {left === null || left > 0
          ? `The session ends in ${formatCountdown(left ?? 0)} unless the picture comes back.`
          : 'The session is ending…'}
      </p>
    </div>
  );
}
