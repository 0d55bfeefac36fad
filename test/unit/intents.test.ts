import { strict as assert } from 'node:assert';
import { normalise, parseIntent } from '../../bot/chat/intents';

describe('intent parsing', () => {
  const mfa = { kind: 'check', checkId: 'mfa.registration' };
  for (const text of [
    'who lacks MFA?',
    'Who lacks mfa',
    'which users don\u2019t have MFA',
    "which users don't have MFA?",
    'mfa status',
    'show users without multi-factor',
    'users without multi-factor authentication',
    'anyone missing 2FA?',
    '<at>Vigil</at> who lacks MFA?',
    'who is not registered for MFA',
    'MFA?',
  ]) {
    it(`"${text}" asks who lacks MFA`, () => assert.deepEqual(parseIntent(text), mfa));
  }

  it('recognises the approvals-channel command with a mention', () => {
    assert.deepEqual(parseIntent('<at>Vigil</at> use this channel for approvals'), { kind: 'set-channel', purpose: 'approvals' });
  });

  for (const text of ['help', 'Help!', 'what can you do?', '']) {
    it(`"${text}" asks for help`, () => assert.deepEqual(parseIntent(text), { kind: 'help' }));
  }

  for (const text of ['order pizza', 'delete everything', '${user.name}', 'mfalicious', '**bold** text']) {
    it(`"${text}" is not understood`, () => assert.deepEqual(parseIntent(text), { kind: 'unknown' }));
  }

  it('normalises mentions, markup, quotes and punctuation', () => {
    assert.equal(normalise('<at>Vigil</at>  Who&nbsp;lacks <b>MFA</b>?!'), 'who lacks mfa');
  });
});
