/** en-US names American zones (EST), en-GB European ones (CET), en-AU Australian (AEDT), en-IN India (IST). */
const ABBREVIATION_LOCALES = ['en-US', 'en-GB', 'en-AU', 'en-IN', 'en-NZ'] as const;
const abbreviators = new Map<string, Intl.DateTimeFormat>();

/** A zone abbreviation like EST or CEST, else Intl's fallback (GMT+5:30 style). */
export function zoneAbbreviation(at: Date, zone: string): string {
  let fallback = '';
  for (const locale of ABBREVIATION_LOCALES) {
    const key = `${locale} ${zone}`;
    let f = abbreviators.get(key);
    if (!f) {
      f = new Intl.DateTimeFormat(locale, { timeZone: zone, timeZoneName: 'short' });
      abbreviators.set(key, f);
    }
    const name = f.formatToParts(at).find((p) => p.type === 'timeZoneName')?.value ?? '';
    if (!/^(GMT|UTC)[+-−]/.test(name)) return name;
    fallback ||= name;
  }
  return fallback;
}
