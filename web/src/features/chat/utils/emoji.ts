/**
 * A small set of emoji the chat offers: a picker, and `:shortcode:`
 * replaced as the message is typed (GitHub/Slack style names).
 */
export const EMOJI: ReadonlyArray<{ code: string; emoji: string; label: string }> = [
  { code: 'smile', emoji: '😄', label: 'smiling face' },
  { code: 'joy', emoji: '😂', label: 'tears of joy' },
  { code: 'wink', emoji: '😉', label: 'winking face' },
  { code: 'heart_eyes', emoji: '😍', label: 'heart eyes' },
  { code: 'thinking', emoji: '🤔', label: 'thinking face' },
  { code: 'sob', emoji: '😭', label: 'crying face' },
  { code: 'wave', emoji: '👋', label: 'waving hand' },
  { code: 'clap', emoji: '👏', label: 'clapping hands' },
  { code: 'thumbsup', emoji: '👍', label: 'thumbs up' },
  { code: 'pray', emoji: '🙏', label: 'folded hands' },
  { code: 'fire', emoji: '🔥', label: 'fire' },
  { code: 'heart', emoji: '❤️', label: 'red heart' },
  { code: 'tada', emoji: '🎉', label: 'party popper' },
  { code: '100', emoji: '💯', label: 'hundred points' },
  { code: 'eyes', emoji: '👀', label: 'eyes' },
  { code: 'rocket', emoji: '🚀', label: 'rocket' },
];

const BY_CODE = new Map(EMOJI.map((e) => [e.code, e.emoji]));
// Also the common aliases.
BY_CODE.set('+1', '👍');
BY_CODE.set('laughing', '😂');

/** Replaces every known `:shortcode:` in `text`; unknown ones stay as typed. */
export function replaceShortcodes(text: string): string {
  return text.replace(/:([a-z0-9_+-]{1,32}):/g, (whole, code: string) => BY_CODE.get(code) ?? whole);
}
