/**
 * cards/render.ts prepares each template once and expands that preparation for every card. These
 * tests hold what the cache must not change: data is never evaluated as an expression (however
 * many renders came before), each render sees only its own data, and a card is a new object that
 * shares nothing with the template or with other cards.
 */
import { strict as assert } from 'node:assert';
import * as ACData from 'adaptivecards-templating';
import { render } from '../../cards/render';
import { messageCard } from '../../cards';

function template() {
  return {
    type: 'AdaptiveCard',
    version: '1.5',
    body: [
      { type: 'TextBlock', text: 'Hello ${name}' },
      { type: 'TextBlock', $when: '${count > 0}', text: '${count} people' },
      { type: 'Container', $data: '${people}', items: [{ type: 'TextBlock', text: '${$index}: ${who}' }] },
    ],
    actions: [{ type: 'Action.Execute', verb: 'vigil.fix', data: { ref: '${ref}' } }],
  };
}

const texts = (card: unknown): string[] => JSON.stringify(card).match(/"text":"[^"]*"/g) ?? [];

describe('cards/render: prepared templates', () => {
  it('never evaluates data as an expression, on the first render and on every cached one', () => {
    const t = template();
    const tricky = { name: '${secret}', secret: 'LEAKED', count: 1, people: [{ who: '${$root.secret}' }, { who: "${concat('a','b')}" }], ref: '${ref}' };
    for (let i = 0; i < 3; i++) {
      const card = render(t, tricky);
      const out = JSON.stringify(card);
      assert.ok(!out.includes('LEAKED'), `render ${i}: ${out}`);
      assert.ok(!out.includes('"ab"') && !out.includes(': ab'), `render ${i}: concat evaluated`);
      assert.deepEqual(texts(card), ['"text":"Hello ${secret}"', '"text":"1 people"', '"text":"0: ${$root.secret}"', "\"text\":\"1: ${concat('a','b')}\""]);
      assert.deepEqual((card.actions as Array<{ data: unknown }>)[0].data, { ref: '${ref}' });
    }
  });

  it('each render sees only its own data (nothing carries over between cards)', () => {
    const t = template();
    const a = render(t, { name: 'Ada', count: 2, people: [{ who: 'x' }, { who: 'y' }], ref: 'refA' });
    const b = render(t, { name: 'Bob', count: 0, people: [], ref: 'refB' });
    const a2 = render(t, { name: 'Ada', count: 2, people: [{ who: 'x' }, { who: 'y' }], ref: 'refA' });
    assert.deepEqual(texts(a), ['"text":"Hello Ada"', '"text":"2 people"', '"text":"0: x"', '"text":"1: y"']);
    assert.deepEqual(texts(b), ['"text":"Hello Bob"']);
    assert.deepEqual(a2, a);
    assert.ok(!JSON.stringify(b).includes('refA'));
  });

  it('gives the same card as a freshly prepared template', () => {
    const t = template();
    const data = { name: 'Cy **bold**', count: 3, people: [{ who: 'p' }], ref: 'r1' };
    render(t, { name: 'warm the cache', count: 0, people: [], ref: '' });
    assert.deepEqual(render(t, data), new ACData.Template(template()).expand({ $root: data }));
  });

  it('cards share nothing with the template or with each other; the template cannot be changed after use', () => {
    const t = template();
    const before = JSON.stringify(t);
    const first = render(t, { name: 'A', count: 1, people: [{ who: 'p' }], ref: 'r' });
    (first.body as Array<Record<string, unknown>>)[0].text = 'changed';
    (first.actions as Array<{ data: Record<string, unknown> }>)[0].data.ref = 'changed';
    const second = render(t, { name: 'A', count: 1, people: [{ who: 'p' }], ref: 'r' });
    assert.equal((second.body as Array<{ text: string }>)[0].text, 'Hello A');
    assert.deepEqual((second.actions as Array<{ data: unknown }>)[0].data, { ref: 'r' });
    assert.equal(JSON.stringify(t), before);
    assert.throws(() => {
      (t.body[0] as { text: string }).text = 'Hello ${secret}';
    }, TypeError);
  });

  it('the real card templates keep people-supplied text literal across renders', () => {
    for (const text of ['${secret}', 'plain', '${concat("a","b")}']) {
      const card = messageCard('Title ${x}', text);
      assert.ok(JSON.stringify(card).includes(JSON.stringify(text).slice(1, -1)), text);
    }
  });
});
