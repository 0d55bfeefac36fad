// Adaptive Card validator for tests: the official Adaptive Cards 1.5 JSON
// schema (vendored next to this file, see README.md) plus the Teams-only
// extensions Vigil uses, each allowed EXPLICITLY by transforming an in-memory
// copy of the schema. Nothing is validated loosely: unknown element types,
// unknown properties and malformed extensions still fail.
//
//   validateCard(card)         -> string[]   (empty = valid)
//   assertValidTeamsCard(card) -> CardSize   (throws CardValidationError)
import fs from 'node:fs';
import path from 'node:path';
import { Ajv, type ErrorObject, type SchemaObject, type ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';

/** Teams accepts bot messages up to ~100 KB, but cards above ~28 KB fail to post or render reliably. */
export const MAX_CARD_BYTES = 28 * 1024;
/** Teams runs `refresh` automatically for at most 60 listed users. */
export const MAX_REFRESH_USER_IDS = 60;
/** Teams-only chart elements we allow (not in Adaptive Cards 1.5). */
export const CHART_TYPES = ['Chart.Donut', 'Chart.Pie', 'Chart.VerticalBar', 'Chart.Line', 'Chart.HorizontalBar'] as const;
/** Teams renders schema 1.5; a card declaring a later version shows only its fallbackText. */
const TEAMS_CARD_VERSION = /^1\.[0-5]$/;

const SCHEMA_FILE = path.join(__dirname, 'adaptive-card-1.5.0.json');
const DEF = '#/definitions/';
const ADAPTIVE_CARD_CONTENT_TYPE = 'application/vnd.microsoft.card.adaptive';

type Definitions = Record<string, SchemaObject>;

// ------------------------------------------------------------ schema loading

/** Reads the vendored draft-06 schema and adapts the one thing ajv 8 cannot read: `id`. */
function loadBaseSchema(): SchemaObject {
  const schema = JSON.parse(fs.readFileSync(SCHEMA_FILE, 'utf8')) as SchemaObject;
  const { id, ...rest } = schema;
  return { ...rest, $id: id };
}

/** `msteams` on the card: full-width layout and the entities behind `<at>` mentions. */
function addMsTeamsProperty(defs: Definitions): void {
  defs['Teams.MsTeams'] = {
    description: 'Teams-only card properties.',
    type: 'object',
    additionalProperties: false,
    properties: {
      width: { enum: ['Full'] },
      entities: {
        type: 'array',
        items: {
          type: 'object',
          additionalProperties: false,
          required: ['type', 'text', 'mentioned'],
          properties: {
            type: { enum: ['mention'] },
            text: { type: 'string', pattern: '^<at>.*</at>$' },
            mentioned: {
              type: 'object',
              additionalProperties: false,
              required: ['id', 'name'],
              properties: { id: { type: 'string' }, name: { type: 'string' } },
            },
          },
        },
      },
    },
  };
  defs.AdaptiveCard.properties.msteams = { $ref: `${DEF}Teams.MsTeams` };
}

/**
 * Chart.* elements, checked minimally (type, data, title, colorSet) but with a
 * REQUIRED fallback that is itself not a chart: charts do not render on Teams
 * iOS, so without one iPhone users would see nothing.
 */
function addCharts(defs: Definitions): void {
  defs['Teams.ChartFallback'] = {
    description: 'A non-chart element shown where charts do not render (Teams iOS).',
    allOf: [
      { $ref: `${DEF}ImplementationsOf.Element` },
      // `type: 'object'` inside the `not` so a string fallback such as "drop" is
      // rejected by the element schema alone, not reported twice.
      { not: { type: 'object', required: ['type'], properties: { type: { enum: [...CHART_TYPES] } } } },
    ],
  };
  for (const type of CHART_TYPES) {
    defs[type] = {
      description: `Teams-only ${type} element (minimal schema).`,
      type: 'object',
      additionalProperties: false,
      required: ['type', 'data', 'fallback'],
      properties: {
        type: { enum: [type] },
        title: { type: 'string' },
        colorSet: { type: 'string' },
        data: { type: 'array', minItems: 1, items: { type: 'object' } },
        fallback: { $ref: `${DEF}Teams.ChartFallback` },
        // Optional chart settings from the Teams chart docs; listed so typos still fail.
        xAxisTitle: { type: 'string' },
        yAxisTitle: { type: 'string' },
        color: { type: 'string' },
        showBarValues: { type: 'boolean' },
        displayMode: { type: 'string' },
        max: { type: 'number' },
        horizontalAlignment: { $ref: `${DEF}HorizontalAlignment` },
        // Common element properties, typed by Extendable.Element below.
        height: {},
        separator: {},
        spacing: {},
        id: {},
        isVisible: {},
        requires: {},
      },
      allOf: [{ $ref: `${DEF}Extendable.Element` }],
    };
    defs['ImplementationsOf.Element'].anyOf.push({ required: ['type'], allOf: [{ $ref: `${DEF}${type}` }] });
  }
}

/** `refresh` must carry an Action.Execute and at most 60 userIds (the schema allows any number). */
function tightenRefresh(defs: Definitions): void {
  const refresh = defs.Refresh;
  refresh.required = ['action'];
  refresh.properties.action = {
    description: refresh.properties.action.description,
    required: ['type'],
    allOf: [{ $ref: `${DEF}Action.Execute` }],
  };
  refresh.properties.userIds = { ...refresh.properties.userIds, maxItems: MAX_REFRESH_USER_IDS };
}

/**
 * Rewrites an `ImplementationsOf.*` union from "anyOf every variant" into a
 * dispatch on `type`. Same accepted set (each variant pins `type` to one
 * value), but errors come only from the variant the card names, or a single
 * "unknown type" error, instead of one error per variant.
 */
function toTaggedUnion(defs: Definitions, unionName: string): void {
  const variants: { tag: string; ref: string }[] = [];
  for (const branch of defs[unionName].anyOf as SchemaObject[]) {
    const ref: unknown = branch.allOf?.[0]?.$ref;
    const tags: unknown = typeof ref === 'string' ? defs[ref.slice(DEF.length)]?.properties?.type?.enum : undefined;
    if (typeof ref !== 'string' || !Array.isArray(tags) || tags.length !== 1) return; // not a tagged union: keep as is
    variants.push({ tag: tags[0] as string, ref });
  }
  defs[unionName] = {
    type: 'object',
    required: ['type'],
    properties: { type: { enum: variants.map((v) => v.tag) } },
    allOf: variants.map((v) => ({
      if: { required: ['type'], properties: { type: { const: v.tag } } },
      then: { $ref: v.ref },
    })),
  };
}

/** The official schema plus the Teams extensions above. */
export function buildTeamsCardSchema(): SchemaObject {
  const schema = loadBaseSchema();
  const defs = schema.definitions as Definitions;
  addMsTeamsProperty(defs);
  addCharts(defs);
  tightenRefresh(defs);
  for (const name of Object.keys(defs)) if (name.startsWith('ImplementationsOf.')) toTaggedUnion(defs, name);
  // The official root accepts any object; a top-level Teams card must say what it is.
  schema.required = ['type', 'version'];
  schema.properties = { type: { enum: ['AdaptiveCard'] }, version: { type: 'string', pattern: TEAMS_CARD_VERSION.source } };
  return schema;
}

// ----------------------------------------------------------------- validator

let compiled: ValidateFunction | undefined;

function validator(): ValidateFunction {
  if (compiled) return compiled;
  const ajv = new Ajv({
    allErrors: true,
    // The official schema uses `pattern`/`required` without a sibling `type`
    // (e.g. its case-insensitive enum patterns), which strictTypes rejects.
    // That is the vendored file's style; every other strict check stays on.
    strictTypes: false,
  });
  ajv.addMetaSchema(readAjvJson('dist/refs/json-schema-draft-06.json'));
  // Annotation keywords used by the Adaptive Cards schema (no validation meaning).
  ajv.addKeyword({ keyword: 'version', schemaType: 'string' });
  ajv.addKeyword({ keyword: 'features', schemaType: 'array' });
  ajv.addKeyword({ keyword: 'example' });
  addFormats(ajv, ['uri', 'uri-reference']);
  compiled = ajv.compile(buildTeamsCardSchema());
  return compiled;
}

function readAjvJson(relative: string): SchemaObject {
  const ajvRoot = path.dirname(require.resolve('ajv/package.json'));
  return JSON.parse(fs.readFileSync(path.join(ajvRoot, relative), 'utf8')) as SchemaObject;
}

// ------------------------------------------------------------ error messages

/**
 * Turns one ajv error into a sentence a test failure can be fixed from.
 * ajv reports schemaPath relative to the $ref'd definition, so the special
 * cases are recognised from the data and params instead.
 */
function describe(error: ErrorObject, data: unknown): string {
  const where = error.instancePath || '(card)';
  const params = error.params as Record<string, unknown>;
  const allowed = (params.allowedValues as unknown[] | undefined)?.map((v) => JSON.stringify(v));
  if (error.keyword === 'enum' && where.endsWith('/type') && allowed) {
    const actual = JSON.stringify(valueAt(data, error.instancePath));
    // One allowed value: a fixed slot such as refresh.action; many: an element/action union.
    return allowed.length === 1 ? `${where}: must be ${allowed[0]}, not ${actual}` : `${where}: unknown type ${actual}`;
  }
  if (error.keyword === 'required' && params.missingProperty === 'fallback' && isChart(valueAt(data, error.instancePath))) {
    return `${where}: chart has no fallback (charts do not render on Teams iOS; add a TextBlock/FactSet/Table fallback)`;
  }
  if (error.keyword === 'not' && where.endsWith('/fallback')) {
    // The only `not` in the schema is Teams.ChartFallback's.
    return `${where}: a chart's fallback must not be another chart (charts do not render on Teams iOS)`;
  }
  if (error.keyword === 'type' && where.endsWith('/fallback') && isChart(valueAt(data, where.slice(0, -'/fallback'.length)))) {
    return `${where}: a chart's fallback must be an element, not ${JSON.stringify(valueAt(data, where))}`;
  }
  if (error.keyword === 'additionalProperties') {
    return `${where}: unknown property "${String(params.additionalProperty)}"`;
  }
  if (allowed) return `${where}: ${error.message} (${allowed.join(', ')})`;
  return `${where}: ${error.message}`;
}

function isChart(node: unknown): boolean {
  const type = (node as { type?: unknown } | null)?.type;
  return typeof type === 'string' && (CHART_TYPES as readonly string[]).includes(type);
}

function valueAt(data: unknown, pointer: string): unknown {
  return pointer
    .split('/')
    .slice(1)
    .map((part) => part.replace(/~1/g, '/').replace(/~0/g, '~'))
    .reduce<unknown>((node, key) => (node !== null && typeof node === 'object' ? (node as Record<string, unknown>)[key] : undefined), data);
}

/** Drops ajv's summary errors ("must match "then" schema") that only repeat the specific ones. */
function isSummary(error: ErrorObject, all: ErrorObject[]): boolean {
  if (error.keyword === 'if') return true;
  if (error.keyword !== 'anyOf') return false;
  return all.some((other) => other !== error && other.instancePath.startsWith(error.instancePath) && other.keyword !== 'anyOf');
}

// ------------------------------------------------------------------- public

export interface CardSize {
  /** UTF-8 bytes of the compact JSON: what the 28 KB budget is measured in. */
  utf8Bytes: number;
  /** UTF-16 bytes (2 per code unit): how Teams counts its ~100 KB message limit. */
  utf16Bytes: number;
}

export class CardValidationError extends Error {
  constructor(
    readonly errors: string[],
    readonly size: CardSize,
  ) {
    super(`Adaptive Card is not valid for Teams (${size.utf8Bytes} UTF-8 bytes, ${size.utf16Bytes} UTF-16 bytes):\n  - ${errors.join('\n  - ')}`);
    this.name = 'CardValidationError';
  }
}

/** Accepts a card or a Bot Framework attachment wrapping one. */
function unwrap(card: unknown): unknown {
  const attachment = card as { contentType?: unknown; content?: unknown } | null;
  return attachment?.contentType === ADAPTIVE_CARD_CONTENT_TYPE ? attachment.content : card;
}

/** JSON round trip: validate what Teams receives (undefined-valued keys vanish). */
function asSent(card: unknown): unknown {
  const json = JSON.stringify(unwrap(card));
  return json === undefined ? undefined : JSON.parse(json);
}

export function cardSize(card: unknown): CardSize {
  const json = JSON.stringify(unwrap(card)) ?? '';
  return { utf8Bytes: Buffer.byteLength(json, 'utf8'), utf16Bytes: json.length * 2 };
}

/** Schema errors as readable strings; an empty array means the card is valid. */
export function validateCard(card: unknown): string[] {
  const data = asSent(card);
  const validate = validator();
  if (validate(data)) return [];
  const errors = validate.errors ?? [];
  const messages = errors.filter((e) => !isSummary(e, errors)).map((e) => describe(e, data));
  return [...new Set(messages)];
}

/** Schema-valid AND within the 28 KB budget, or throws CardValidationError. Returns the size. */
export function assertValidTeamsCard(card: unknown): CardSize {
  const size = cardSize(card);
  const errors = validateCard(card);
  if (size.utf8Bytes > MAX_CARD_BYTES) {
    errors.push(`(card): ${size.utf8Bytes} bytes of JSON (UTF-8) exceeds the ${MAX_CARD_BYTES}-byte (28 KB) budget for Teams cards`);
  }
  if (errors.length > 0) throw new CardValidationError(errors, size);
  return size;
}
