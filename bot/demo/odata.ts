/**
 * The slice of OData that the demo routes understand: a $filter subset (comparisons
 * joined by `and`), $select, $top and opaque $skiptoken paging.
 *
 * Routes declare which filter properties/operators they support; anything else is
 * rejected the way Graph rejects it, so Vigil cannot come to rely on a query the
 * real service would refuse.
 */
import { GraphError } from './errors';

export type FilterOp = 'eq' | 'ne' | 'ge' | 'gt' | 'le' | 'lt' | 'in';
export type Literal = string | number | boolean | null | Date;

export interface FilterClause {
  /** Property path, e.g. `status/errorCode`. */
  path: string;
  op: FilterOp;
  value: Literal | Literal[];
}

/** What a route accepts: property path (case-insensitive) → allowed operators. */
export type FilterSupport = Record<string, FilterOp[]>;

export interface FilterErrorStyle {
  /** Directory (users, groups) and reports word their errors differently. */
  code: string;
  message: (detail: string) => string;
}

export const DIRECTORY_FILTER_ERRORS: FilterErrorStyle = {
  code: 'Request_UnsupportedQuery',
  message: () => 'Unsupported Query.',
};
export const GENERIC_FILTER_ERRORS: FilterErrorStyle = {
  code: 'BadRequest',
  message: (d) => `Invalid filter clause: ${d}`,
};

const TOKEN_RE = /\s*('(?:[^']|'')*'|\(|\)|,|[^\s(),']+)/y;

function tokenize(text: string): string[] {
  const out: string[] = [];
  TOKEN_RE.lastIndex = 0;
  let m: RegExpExecArray | null;
  while (TOKEN_RE.lastIndex < text.length && (m = TOKEN_RE.exec(text))) out.push(m[1]);
  if (text.slice(TOKEN_RE.lastIndex).trim()) throw new Error(`unexpected text '${text.slice(TOKEN_RE.lastIndex)}'`);
  return out;
}

function parseLiteral(tok: string): Literal {
  if (tok.startsWith("'")) return tok.slice(1, -1).replace(/''/g, "'");
  if (tok === 'true') return true;
  if (tok === 'false') return false;
  if (tok === 'null') return null;
  if (/^-?\d+(\.\d+)?$/.test(tok)) return Number(tok);
  // Unquoted DateTimeOffset, as Graph expects for createdDateTime ge 2024-01-01T00:00:00Z
  if (/^\d{4}-\d{2}-\d{2}(T[\d:.]+(Z|[+-]\d{2}:\d{2})?)?$/.test(tok)) return new Date(tok);
  // GUIDs are allowed unquoted in some places (e.g. skuId eq <guid>)
  if (/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(tok)) return tok;
  throw new Error(`unrecognised literal '${tok}'`);
}

/** Parse `a eq 1 and b in ('x','y')`; throws GraphError(400) on anything outside `support`. */
export function parseFilter(text: string | undefined, support: FilterSupport, style: FilterErrorStyle = GENERIC_FILTER_ERRORS): FilterClause[] {
  if (text === undefined || text.trim() === '') return [];
  const fail = (detail: string): never => {
    throw new GraphError(400, style.code, style.message(detail));
  };
  let toks: string[];
  try {
    toks = tokenize(text);
  } catch (e) {
    return fail((e as Error).message);
  }
  const supportLc = new Map(Object.entries(support).map(([k, v]) => [k.toLowerCase(), { name: k, ops: v }]));
  const clauses: FilterClause[] = [];
  let i = 0;
  while (i < toks.length) {
    const pathTok = toks[i++];
    const opTok = (toks[i++] ?? '').toLowerCase() as FilterOp;
    const sup = supportLc.get(pathTok?.toLowerCase() ?? '');
    if (!sup) return fail(`property '${pathTok}' is not supported in $filter`);
    if (!sup.ops.includes(opTok)) return fail(`operator '${opTok}' is not supported for '${sup.name}'`);
    let value: Literal | Literal[];
    try {
      if (opTok === 'in') {
        if (toks[i++] !== '(') return fail("expected '(' after 'in'");
        const list: Literal[] = [];
        while (toks[i] !== ')') {
          if (i >= toks.length) return fail("missing ')'");
          list.push(parseLiteral(toks[i++]));
          if (toks[i] === ',') i++;
        }
        i++;
        value = list;
      } else {
        if (i >= toks.length) return fail(`missing value for '${sup.name}'`);
        value = parseLiteral(toks[i++]);
      }
    } catch (e) {
      return fail((e as Error).message);
    }
    clauses.push({ path: sup.name, op: opTok, value });
    if (i < toks.length) {
      const joiner = toks[i++].toLowerCase();
      if (joiner !== 'and') return fail(`'${joiner}' is not supported; only 'and' joins clauses`);
    }
  }
  return clauses;
}

function getPath(obj: unknown, path: string): unknown {
  let cur: unknown = obj;
  for (const seg of path.split('/')) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<string, unknown>)[seg];
  }
  return cur;
}

function compare(a: unknown, b: Literal): number | undefined {
  if (b instanceof Date) {
    const t = typeof a === 'string' ? Date.parse(a) : NaN;
    return Number.isNaN(t) ? undefined : t - b.getTime();
  }
  if (typeof b === 'number' && typeof a === 'number') return a - b;
  if (typeof b === 'string' && typeof a === 'string') {
    // Directory string comparisons are case-insensitive in Graph.
    const x = a.toLowerCase();
    const y = b.toLowerCase();
    return x < y ? -1 : x > y ? 1 : 0;
  }
  if (typeof b === 'boolean' || b === null) return a === b || (a === undefined && b === null) ? 0 : undefined;
  return undefined;
}

export function matches(obj: unknown, clauses: FilterClause[]): boolean {
  for (const c of clauses) {
    const v = getPath(obj, c.path);
    if (c.op === 'in') {
      if (!(c.value as Literal[]).some((x) => compare(v, x) === 0)) return false;
      continue;
    }
    const r = compare(v, c.value as Literal);
    const ok =
      c.op === 'eq' ? r === 0 :
      c.op === 'ne' ? r !== 0 :
      r === undefined ? false :
      c.op === 'ge' ? r >= 0 :
      c.op === 'gt' ? r > 0 :
      c.op === 'le' ? r <= 0 :
      r < 0;
    if (!ok) return false;
  }
  return true;
}

export function parseSelect(text: string | undefined): string[] | undefined {
  if (!text) return undefined;
  const props = text.split(',').map((s) => s.trim()).filter(Boolean);
  return props.length ? props : undefined;
}

/**
 * Keep only the selected properties (case-insensitive, as Graph is), always keeping
 * `@odata.type` so derived types stay recognisable.
 */
export function applySelect<T extends object>(obj: T, select: string[] | undefined): Record<string, unknown> {
  const src = obj as Record<string, unknown>;
  if (!select) return { ...src };
  const out: Record<string, unknown> = {};
  if (src['@odata.type'] !== undefined) out['@odata.type'] = src['@odata.type'];
  const keys = Object.keys(src);
  for (const s of select) {
    const k = keys.find((x) => x.toLowerCase() === s.toLowerCase());
    out[k ?? s] = k ? src[k] : null;
  }
  return out;
}

/** Parse $top; `max` is the route's documented ceiling. */
export function parseTop(text: string | undefined, max: number, error: (value: string) => GraphError): number | undefined {
  if (text === undefined) return undefined;
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1 || n > max) throw error(text);
  return n;
}

// Opaque, but decodable: enough to resume a listing at an offset.
const SKIP_PREFIX = 'RFNwdAIAAQAAA';

export function encodeSkipToken(offset: number): string {
  return SKIP_PREFIX + Buffer.from(`vigil-demo:${offset}`).toString('base64url');
}

export function decodeSkipToken(token: string | undefined): number {
  if (token === undefined) return 0;
  const raw = token.startsWith(SKIP_PREFIX) ? Buffer.from(token.slice(SKIP_PREFIX.length), 'base64url').toString('utf8') : '';
  const m = /^vigil-demo:(\d+)$/.exec(raw);
  if (!m) throw new GraphError(400, 'Request_BadRequest', 'Invalid skip token.');
  return Number(m[1]);
}
