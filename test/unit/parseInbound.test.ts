/**
 * bot/teams/server.ts skips the sanitising reviver for bodies that cannot need it (no `__proto__`,
 * no `\u` escape). Whichever way a body is parsed, no `__proto__` key and no NUL survives.
 */
import { strict as assert } from 'node:assert';
import { parseInbound } from '../../bot/teams/server';

describe('parseInbound: inbound JSON', () => {
  it('drops __proto__ keys however they are spelled', () => {
    for (const text of ['{"__proto__":{"polluted":1},"a":1}', '{"\\u005f_proto__":{"polluted":1},"a":1}', '{"_\\u005fproto\\u005f_":{"polluted":1},"a":1}', '{"x":{"__pr\\u006fto__":{"polluted":1}},"a":1}']) {
      const body = parseInbound(text) as Record<string, unknown>;
      assert.equal(Object.prototype.hasOwnProperty.call(body, '__proto__'), false, text);
      assert.equal(Object.prototype.hasOwnProperty.call((body.x ?? {}) as object, '__proto__'), false, text);
      assert.equal(({} as Record<string, unknown>).polluted, undefined);
      assert.equal(body.a, 1);
    }
  });

  it('removes NUL from strings and drops keys holding one', () => {
    const body = parseInbound('{"text":"who\\u0000 lacks MFA?","k\\u0000ey":1,"list":["a\\u0000b"]}') as Record<string, unknown>;
    assert.deepEqual(body, { text: 'who lacks MFA?', list: ['ab'] });
  });

  it('parses ordinary activities as JSON.parse does, and refuses what is not JSON', () => {
    const activity = { type: 'message', text: 'who lacks MFA? ${x} ünïcode \n "quoted" \\ back', from: { id: '29:1', name: 'Zoë' }, entities: [], value: { n: 1.5, ok: true, none: null } };
    const text = JSON.stringify(activity);
    assert.ok(!text.includes('\\u'));
    assert.deepEqual(parseInbound(text), activity);
    assert.throws(() => parseInbound('{"a":"raw \u0000 nul"}'));
    assert.throws(() => parseInbound('{"a":'));
  });
});
