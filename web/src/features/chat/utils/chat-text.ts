/**
 * How a chat message's text is shown: `@username` mentions picked out, and
 * links to the server's safe-listed domains (`GET /api/chat/settings`) made
 * links; every other link stays plain text, so a chat cannot send people to
 * any site it likes.
 */
export type TextPart =
  | { kind: 'text'; text: string }
  | { kind: 'mention'; text: string; username: string }
  | { kind: 'link'; text: string; href: string };

// A URL with a scheme, or a bare www. address; a mention is @ + a username
// (3–32 of [a-z0-9_], the server's rule) not inside a word or an address.
const TOKEN = /(https?:\/\/[^\s<>"']+|www\.[^\s<>"']+)|(?<![\w@.])@([A-Za-z0-9_]{3,32})\b/g;

/** Whether `host` is one of `domains` or a subdomain of one. */
export function isSafeHost(host: string, domains: readonly string[]): boolean {
  const h = host.toLowerCase().replace(/\.$/, '');
  return domains.some((d) => h === d || h.endsWith(`.${d}`));
}

/** A link's target when it is safe to follow (https/http to a listed domain), else null. */
export function safeHref(raw: string, domains: readonly string[]): string | null {
  // Trailing punctuation belongs to the sentence, not the address.
  const trimmed = raw.replace(/[.,!?;:)\]]+$/, '');
  try {
    const url = new URL(trimmed.startsWith('www.') ? `https://${trimmed}` : trimmed);
    if (url.protocol !== 'https:' && url.protocol !== 'http:') return null;
    if (url.username || url.password) return null;
    return isSafeHost(url.hostname, domains) ? url.href : null;
  } catch {
    return null;
  }
}

/** Splits a message into text, mentions and safe links. */
export function parseChatText(text: string, domains: readonly string[]): TextPart[] {
  const parts: TextPart[] = [];
  let last = 0;
  const push = (part: TextPart) => {
    const prev = parts[parts.length - 1];
    if (part.kind === 'text' && prev?.kind === 'text') prev.text += part.text;
    else parts.push(part);
  };
  for (const match of text.matchAll(TOKEN)) {
    const at = match.index;
    if (at > last) push({ kind: 'text', text: text.slice(last, at) });
    const [whole, url, username] = match;
    if (url !== undefined) {
      const trimmed = url.replace(/[.,!?;:)\]]+$/, '');
      const href = safeHref(trimmed, domains);
      push(href ? { kind: 'link', text: trimmed, href } : { kind: 'text', text: trimmed });
      if (trimmed.length < url.length) push({ kind: 'text', text: url.slice(trimmed.length) });
    } else if (username !== undefined) {
      push({ kind: 'mention', text: whole, username: username.toLowerCase() });
    }
    last = at + whole.length;
  }
  if (last < text.length) push({ kind: 'text', text: text.slice(last) });
  return parts;
}
