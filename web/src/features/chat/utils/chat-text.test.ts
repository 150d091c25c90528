import { describe, expect, it } from 'vitest';

import { parseChatText, safeHref } from '@/features/chat/utils/chat-text';
import { replaceShortcodes } from '@/features/chat/utils/emoji';

const domains = ['github.com', 'wikipedia.org'];

describe('chat text', () => {
  it('links only safe-listed domains (and their subdomains), over http(s)', () => {
    expect(safeHref('https://github.com/x', domains)).toBe('https://github.com/x');
    expect(safeHref('https://en.wikipedia.org/wiki/Rust', domains)).toBe('https://en.wikipedia.org/wiki/Rust');
    expect(safeHref('www.github.com', domains)).toBe('https://www.github.com/');
    expect(safeHref('https://evilgithub.com/', domains)).toBeNull();
    expect(safeHref('https://github.com.evil.io/', domains)).toBeNull();
    expect(safeHref('https://user:pw@github.com/', domains)).toBeNull();
    expect(safeHref('javascript:alert(1)', domains)).toBeNull();
  });

  it('splits text into words, mentions and links; an unsafe link stays text', () => {
    expect(parseChatText('hi @Cleo, see https://github.com/a. or http://evil.io/x', domains)).toEqual([
      { kind: 'text', text: 'hi ' },
      { kind: 'mention', text: '@Cleo', username: 'cleo' },
      { kind: 'text', text: ', see ' },
      { kind: 'link', text: 'https://github.com/a', href: 'https://github.com/a' },
      { kind: 'text', text: '. or http://evil.io/x' },
    ]);
    // An e-mail address is not a mention.
    expect(parseChatText('mail me@example.com', domains)).toEqual([{ kind: 'text', text: 'mail me@example.com' }]);
  });

  it('replaces known :shortcodes: and leaves others as typed', () => {
    expect(replaceShortcodes('gg :fire: :+1: :nope:')).toBe('gg 🔥 👍 :nope:');
  });
});
