/**
 * The creator's key fingerprint (docs/e2ee.md "Trusting the server"), shown
 * in the studio and on the room page: when both show the same digits, the
 * server relayed the creator's real public key.
 */
export function SafetyNumber({ value, who }: { value: string | null; who: 'creator' | 'viewer' }) {
  return (
    <p className="text-xs text-zinc-600 dark:text-zinc-400">
      Safety number:{' '}
      <span className="font-mono font-semibold tracking-wider text-zinc-900 dark:text-zinc-100" data-testid="e2ee-safety-number">
        {value ?? '…'}
      </span>
      {who === 'creator'
        ? ' — viewers see the same number on the room page if nobody swapped your key.'
        : ' — the creator sees the same number in the studio if nobody swapped their key.'}
    </p>
  );
}
