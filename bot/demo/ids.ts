/** Deterministic identifiers and a tiny seeded PRNG, shared by the seed and the generator. */
import { createHash } from 'node:crypto';

/** A GUID derived from a name (SHA-1, version-5 layout) — stable across runs. */
export function guidFrom(name: string): string {
  const h = createHash('sha1').update(name).digest();
  h[6] = (h[6] & 0x0f) | 0x50;
  h[8] = (h[8] & 0x3f) | 0x80;
  const x = h.subarray(0, 16).toString('hex');
  return `${x.slice(0, 8)}-${x.slice(8, 12)}-${x.slice(12, 16)}-${x.slice(16, 20)}-${x.slice(20, 32)}`;
}

/** `00000000-0000-4000-8000-0000000000NN` style ids used for the fixed demo objects. */
export function fixedGuid(n: number): string {
  return `00000000-0000-4000-8000-${n.toString(16).padStart(12, '0')}`;
}

/** Outlook-style opaque ids (message rules look like "AQAAAJ5dZqA=" in Graph). */
export function outlookId(name: string): string {
  return createHash('sha1').update(name).digest().subarray(0, 8).toString('base64');
}

/** mulberry32: small, fast, good enough for reproducible synthetic data. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export const DAY_MS = 86_400_000;

export function daysBefore(now: Date, days: number, hourUtc = 9): string {
  const exact = now.getTime() - days * DAY_MS;
  const d = new Date(exact);
  d.setUTCHours(hourUtc, 0, 0, 0);
  // Keep "joined N days ago" exact: a time of day later than now's would make it N-1 whole days.
  if (d.getTime() > exact) d.setTime(d.getTime() - DAY_MS);
  return d.toISOString();
}
