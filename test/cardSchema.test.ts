import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import {
  assertValidTeamsCard,
  CardValidationError,
  cardSize,
  MAX_CARD_BYTES,
  validateCard,
} from './support/cardSchema';

/** A card shaped like Vigil's answers: text, facts, a chart with fallback, actions, a mention. */
function sampleCard(): Record<string, unknown> {
  return {
    type: 'AdaptiveCard',
    $schema: 'http://adaptivecards.io/schemas/adaptive-card.json',
    version: '1.5',
    msteams: {
      width: 'Full',
      entities: [{ type: 'mention', text: '<at>Megan Bowen</at>', mentioned: { id: '29:meganb', name: 'Megan Bowen' } }],
    },
    body: [
      { type: 'TextBlock', text: '3 accounts have no MFA', size: 'Large', weight: 'Bolder', wrap: true },
      {
        type: 'FactSet',
        facts: [
          { title: 'Adele Vance', value: 'no methods registered' },
          { title: 'Isaiah Langer', value: 'no methods registered' },
        ],
      },
      {
        type: 'Chart.Donut',
        title: 'MFA coverage',
        colorSet: 'categorical',
        data: [
          { legend: 'MFA', value: 42 },
          { legend: 'No MFA', value: 3 },
        ],
        fallback: { type: 'TextBlock', text: 'MFA: 42 of 45 accounts', wrap: true },
      },
      { type: 'TextBlock', text: 'Approver: <at>Megan Bowen</at>', wrap: true },
    ],
    actions: [
      { type: 'Action.Execute', title: 'Ask to enforce MFA', verb: 'proposeFix', data: { fix: 'enforce-mfa' } },
      { type: 'Action.OpenUrl', title: 'Open Entra admin centre', url: 'https://entra.microsoft.com' },
    ],
  };
}

function withBody(...body: unknown[]): Record<string, unknown> {
  return { ...sampleCard(), body };
}

function userIds(count: number): string[] {
  return Array.from({ length: count }, (_, i) => `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`);
}

describe('cardSchema (Adaptive Cards 1.5 + Teams extensions)', () => {
  it('the vendored schema is the pristine upstream blob', () => {
    // Same id as `git hash-object`; see test/support/README.md for provenance.
    const bytes = fs.readFileSync(path.join(__dirname, 'support', 'adaptive-card-1.5.0.json'));
    const blob = crypto.createHash('sha1').update(`blob ${bytes.length}\0`).update(bytes).digest('hex');
    assert.equal(blob, 'fcb953db9eb5a3624b9341927c315855e4aef44f');
  });

  it('accepts a valid sample card', () => {
    assert.deepEqual(validateCard(sampleCard()), []);
    const size = assertValidTeamsCard(sampleCard());
    assert.ok(size.utf8Bytes > 0 && size.utf16Bytes > 0);
  });

  it('accepts a Bot Framework attachment wrapping the card', () => {
    assert.deepEqual(validateCard({ contentType: 'application/vnd.microsoft.card.adaptive', content: sampleCard() }), []);
  });

  it('rejects an unknown element type, also when nested', () => {
    assert.deepEqual(validateCard(withBody({ type: 'Sparkline', data: [1, 2] })), ['/body/0/type: unknown type "Sparkline"']);
    const nested = validateCard(withBody({ type: 'Container', items: [{ type: 'Chart.Radar', data: [{}] }] }));
    assert.deepEqual(nested, ['/body/0/items/0/type: unknown type "Chart.Radar"']);
  });

  it('rejects unknown properties on known elements', () => {
    assert.deepEqual(validateCard(withBody({ type: 'TextBlock', text: 'x', colour: 'Good' })), ['/body/0: unknown property "colour"']);
  });

  it('rejects a chart without a fallback', () => {
    const errors = validateCard(withBody({ type: 'Chart.VerticalBar', data: [{ x: 'Mon', y: 3 }] }));
    assert.equal(errors.length, 1);
    assert.match(errors[0], /^\/body\/0: chart has no fallback/);
  });

  it('rejects chart fallbacks that would still show nothing on iOS', () => {
    const chartFallback = { type: 'Chart.Pie', data: [{ legend: 'a', value: 1 }], fallback: { type: 'TextBlock', text: 'a: 1' } };
    assert.match(validateCard(withBody({ type: 'Chart.Donut', data: [{}], fallback: chartFallback })).join('\n'), /must not be another chart/);
    assert.match(validateCard(withBody({ type: 'Chart.Line', data: [{}], fallback: 'drop' })).join('\n'), /must be an element/);
  });

  it('accepts every allowed chart type with a fallback', () => {
    for (const type of ['Chart.Donut', 'Chart.Pie', 'Chart.VerticalBar', 'Chart.Line', 'Chart.HorizontalBar']) {
      const chart = { type, title: type, data: [{ legend: 'a', value: 1 }], fallback: { type: 'TextBlock', text: 'a: 1' } };
      assert.deepEqual(validateCard(withBody(chart)), [], type);
    }
  });

  it('accepts msteams width Full and rejects other widths', () => {
    assert.deepEqual(validateCard({ ...sampleCard(), msteams: { width: 'Full' } }), []);
    assert.equal(validateCard({ ...sampleCard(), msteams: { width: 'Wide' } }).length, 1);
  });

  it('accepts refresh with Action.Execute and 60 userIds, rejects 61', () => {
    const refresh = (count: number) => ({ action: { type: 'Action.Execute', verb: 'refreshStatus' }, userIds: userIds(count) });
    assert.deepEqual(validateCard({ ...sampleCard(), refresh: refresh(60) }), []);
    assert.deepEqual(validateCard({ ...sampleCard(), refresh: refresh(61) }), ['/refresh/userIds: must NOT have more than 60 items']);
  });

  it('rejects refresh with anything but Action.Execute', () => {
    const errors = validateCard({ ...sampleCard(), refresh: { action: { type: 'Action.Submit' } } });
    assert.deepEqual(errors, ['/refresh/action/type: must be "Action.Execute", not "Action.Submit"']);
  });

  it('rejects cards Teams would not render: no version, or newer than 1.5', () => {
    const { version: _omitted, ...noVersion } = sampleCard();
    assert.deepEqual(validateCard(noVersion), ["(card): must have required property 'version'"]);
    assert.equal(validateCard({ ...sampleCard(), version: '1.6' }).length, 1);
  });

  it('rejects an oversized card (> 28 KB) with a readable error', () => {
    const rows = Array.from({ length: 400 }, (_, i) => ({ title: `user${i}@northwinddental.co.uk`, value: 'no MFA method registered' }));
    const big = withBody({ type: 'FactSet', facts: rows });
    assert.ok(cardSize(big).utf8Bytes > MAX_CARD_BYTES);
    assert.deepEqual(validateCard(big), [], 'schema-valid: only the size is wrong');
    assert.throws(
      () => assertValidTeamsCard(big),
      (err: unknown) => err instanceof CardValidationError && /exceeds the 28672-byte \(28 KB\) budget/.test(err.message),
    );
  });

  it('measures size in UTF-8 and UTF-16 bytes', () => {
    const card = withBody({ type: 'TextBlock', text: 'é€😀' });
    const json = JSON.stringify(card);
    assert.deepEqual(cardSize(card), { utf8Bytes: Buffer.byteLength(json), utf16Bytes: json.length * 2 });
    assert.notEqual(cardSize(card).utf8Bytes, cardSize(card).utf16Bytes);
  });

  it('throws errors that list every problem', () => {
    assert.throws(
      () => assertValidTeamsCard(withBody({ type: 'Bogus' }, { type: 'TextBlock' })),
      (err: unknown) =>
        err instanceof CardValidationError &&
        err.errors.length === 2 &&
        err.message.includes('/body/0/type: unknown type "Bogus"') &&
        err.message.includes("/body/1: must have required property 'text'"),
    );
  });
});
