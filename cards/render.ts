/**
 * Fill an Adaptive Card template with data. adaptivecards-templating binds ${…} in the
 * TEMPLATE only: values from data are inserted as they are, never evaluated, so a user named
 * "${secret}" stays literally "${secret}". Markdown in people-supplied text is escaped with
 * `literal` so names render exactly as written.
 *
 * Parsing a template's expressions is most of the cost of a render, so each template object is
 * prepared once (`new Template`) and that prepared template is expanded for every card. Only the
 * template is ever parsed — never data — whether the preparation is fresh or cached. Templates
 * are the cards' JSON modules and are never changed after load; they are frozen when first
 * prepared, so a change would throw instead of silently rendering a stale preparation.
 */
import * as ACData from 'adaptivecards-templating';

export type Card = Record<string, unknown>;

const prepared = new WeakMap<object, ACData.Template>();

export function render(template: object, data: object): Card {
  let t = prepared.get(template);
  if (!t) {
    t = new ACData.Template(deepFreeze(template));
    prepared.set(template, t);
  }
  // expand() is synchronous and resets the Template's evaluation state on every call, so one
  // prepared Template serves every render; it builds a new card and leaves the preparation as it was.
  return t.expand({ $root: data }) as Card;
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
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
