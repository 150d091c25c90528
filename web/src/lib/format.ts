/** Formatting for people: coins, counts and times. */

const integer = new Intl.NumberFormat();

export function formatNumber(value: number): string {
  return integer.format(value);
}

export function formatCoins(value: number): string {
  return `${integer.format(value)} ${Math.abs(value) === 1 ? 'coin' : 'coins'}`;
}

export function formatPrice(price: number): string {
  return price === 0 ? 'Free' : formatCoins(price);
}

export function formatViewers(count: number): string {
  return `${integer.format(count)} ${count === 1 ? 'viewer' : 'viewers'}`;
}

const dateTime = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });
const time = new Intl.DateTimeFormat(undefined, { timeStyle: 'short' });

export function formatDateTime(iso: string): string {
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? iso : dateTime.format(date);
}

export function formatTime(iso: string): string {
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? iso : time.format(date);
}

/** A countdown: `1:05` for 65 seconds. */
export function formatCountdown(seconds: number): string {
  const s = Math.max(0, Math.floor(seconds));
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`;
}

/** A running clock: `4:05`, or `1:02:03` past an hour. */
export function formatClock(seconds: number): string {
  const s = Math.max(0, Math.floor(seconds));
  const hours = Math.floor(s / 3600);
  if (hours === 0) return formatCountdown(s);
  const minutes = Math.floor((s % 3600) / 60);
  return `${hours}:${String(minutes).padStart(2, '0')}:${String(s % 60).padStart(2, '0')}`;
}

/** A length of time given in seconds: `45 s`, `3 min 5 s`, `1 h 2 min`. */
export function formatSeconds(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s} s`;
  const minutes = Math.floor(s / 60);
  if (minutes < 60) return s % 60 === 0 ? `${minutes} min` : `${minutes} min ${s % 60} s`;
  return `${Math.floor(minutes / 60)} h ${minutes % 60} min`;
}

export function formatDuration(fromIso: string, toIso: string | null, now = Date.now()): string {
  const start = new Date(fromIso).getTime();
  const end = toIso ? new Date(toIso).getTime() : now;
  if (Number.isNaN(start) || Number.isNaN(end) || end < start) return '';
  const minutes = Math.round((end - start) / 60_000);
  if (minutes < 1) return 'under a minute';
  if (minutes < 60) return `${minutes} min`;
  const hours = Math.floor(minutes / 60);
  return `${hours} h ${minutes % 60} min`;
}

/** An amount of money in the currency's minor unit (cents): `$1.99` for 199 `usd`. */
export function formatMoney(minor: number, currency: string): string {
  const code = currency.toUpperCase();
  try {
    const format = new Intl.NumberFormat(undefined, { style: 'currency', currency: code });
    const digits = format.resolvedOptions().maximumFractionDigits ?? 2;
    return format.format(minor / 10 ** digits);
  } catch {
    // A currency code Intl does not know.
    return `${(minor / 100).toFixed(2)} ${code}`;
  }
}
