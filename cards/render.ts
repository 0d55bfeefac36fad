/**
 * Fill an Adaptive Card template with data. adaptivecards-templating binds ${…} in the
 * TEMPLATE only: values from data are inserted as they are, never evaluated, so a user named
 * "${secret}" stays literally "${secret}". Markdown in people-supplied text is escaped with
 * `literal` so names render exactly as written.
 */
import * as ACData from 'adaptivecards-templating';

export type Card = Record<string, unknown>;

export function render(template: object, data: object): Card {
  return new ACData.Template(template).expand({ $root: data }) as Card;
}

/** Escape the markdown Teams renders in TextBlocks, so text from Graph or users shows literally. */
export function literal(text: string | null | undefined): string {
  return (text ?? '')
    .replace(/[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F\u202A-\u202E\u2066-\u2069]/g, '') // control chars, bidi overrides
    // Only what makes Teams format text: emphasis, code, links, strike-through, and block markers at a line start.
    .replace(/([\\`*_[\]~<>])/g, '\\$1')
    .replace(/^(\s*)([#+\->]|\d+\.)/gm, '$1\\$2');
}

/** "3 days ago" style, for people; dates in cards are always also given absolutely where it matters. */
export function plural(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}

export function formatDateTime(d: Date): string {
  return `${d.toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}
