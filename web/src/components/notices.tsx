import { useQueryClient } from '@tanstack/react-query';

import { Alert } from '@/components/ui/alert';
import { Button } from '@/components/ui/button';
import { Link } from '@/components/ui/link';
import { dismissNotice, useNotices } from '@/lib/notices';

/**
 * Notices pushed over the socket (a refund), in a corner above the page
 * until dismissed: they are about the user's coins, so they do not vanish by
 * themselves.
 */
export function Notices() {
  const queryClient = useQueryClient();
  const notices = useNotices();
  if (notices.length === 0) return null;
  return (
    <section
      aria-label="Notifications"
      className="fixed right-3 bottom-3 z-40 flex w-[min(26rem,calc(100vw-1.5rem))] flex-col gap-2"
    >
      {notices.map((notice) => (
        <Alert
          key={notice.id}
          tone={notice.tone}
          className="shadow-lg"
          action={
            <Button size="sm" variant="ghost" onClick={() => dismissNotice(queryClient, notice.id)}>
              Dismiss
            </Button>
          }
        >
          <p data-testid="notice-text">{notice.text}</p>
          {notice.link && (
            <Link to={notice.link.to} className="text-sm" onClick={() => dismissNotice(queryClient, notice.id)}>
              {notice.link.label}
            </Link>
          )}
        </Alert>
      ))}
    </section>
  );
}
