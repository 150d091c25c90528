import { parseChatText } from '@/features/chat/utils/chat-text';
import { cn } from '@/utils/cn';

/**
 * A message's words: mentions highlighted (strongly when they name the
 * reader), safe-listed links clickable (new tab, no referrer), any other
 * link plain text.
 */
export function MessageText({ text, linkDomains, me }: { text: string; linkDomains: readonly string[]; me?: string | undefined }) {
  return (
    <>
      {parseChatText(text, linkDomains).map((part, i) => {
        if (part.kind === 'mention') {
          const mine = part.username === me?.toLowerCase();
          return (
            <mark
              key={i}
              data-testid="mention"
              className={cn(
                'rounded px-0.5 font-medium',
                mine ? 'bg-amber-200 text-amber-950 dark:bg-amber-500/40 dark:text-amber-50' : 'bg-brand-100 text-brand-700 dark:bg-brand-700/30 dark:text-brand-100',
              )}
            >
              {part.text}
            </mark>
          );
        }
        if (part.kind === 'link') {
          return (
            <a key={i} href={part.href} target="_blank" rel="noopener noreferrer nofollow ugc" className="text-brand-700 underline dark:text-brand-100">
              {part.text}
            </a>
          );
        }
        return <span key={i}>{part.text}</span>;
      })}
    </>
  );
}
