// Times as people read them: in a schedule's zone and in the viewer's own.

export const viewerZone = Intl.DateTimeFormat().resolvedOptions().timeZone;

const formatters = new Map<string, Intl.DateTimeFormat>();

/** `Fri 2026-11-27 18:00 EST`: the wall time in `zone`, like `taskops preview`. */
export function inZone(iso: string | null | undefined, zone: string = viewerZone): string {
  if (!iso) return '—';
  let f = formatters.get(zone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone: zone,
      weekday: 'short',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      hourCycle: 'h23',
      timeZoneName: 'short',
    });
    formatters.set(zone, f);
  }
  const p = Object.fromEntries(f.formatToParts(new Date(iso)).map((x) => [x.type, x.value]));
  return `${p.weekday} ${p.year}-${p.month}-${p.day} ${p.hour}:${p.minute} ${p.timeZoneName}`;
}

/** `in 3 h`, `5 min ago`. */
export function relative(iso: string | null | undefined, now = Date.now()): string {
  if (!iso) return '';
  const ms = new Date(iso).getTime() - now;
  const abs = Math.abs(ms);
  const [n, unit] =
    abs < 60_000
      ? [Math.round(abs / 1000), 's']
      : abs < 3_600_000
        ? [Math.round(abs / 60_000), 'min']
        : abs < 86_400_000
          ? [Math.round(abs / 3_600_000), 'h']
          : [Math.round(abs / 86_400_000), 'd'];
  return ms >= 0 ? `in ${n} ${unit}` : `${n} ${unit} ago`;
}

export function duration(ms: number | null | undefined): string {
  if (ms === null || ms === undefined) return '—';
  return ms < 1000
    ? `${ms} ms`
    : ms < 60_000
      ? `${(ms / 1000).toFixed(1)} s`
      : `${Math.round(ms / 60_000)} min`;
}

export const shortRevision = (rev: string | null | undefined): string =>
  !rev ? '—' : /^[0-9a-f]{40}$/.test(rev) ? rev.slice(0, 12) : rev;

/** A run's attempts count, whether the server sends a number or (state machine) a list of attempts. */
export const attemptCount = (a: number | unknown[]): number => (Array.isArray(a) ? a.length : a);

export function targetText(target: { tag?: string; name?: string } | undefined): string {
  if (target?.tag !== undefined) return `tag ${target.tag}`;
  if (target?.name !== undefined) return target.name;
  return '—';
}
