/**
 * The secrets check of the whole suite (test/support/logSink.ts, run after the last test) works:
 * every logger of the process reaches the sink whatever its level, and the search finds what it
 * must. Here it is checked on lines that are never logged.
 */
import { strict as assert } from 'node:assert';
import { randomUUID } from 'node:crypto';
import { createLogger } from '../../bot/log';
import { findSecrets, installLogSink, recentSinkLines, sinkActive } from '../support/logSink';

describe('security: the log sink the secrets check reads', () => {
  before(function () {
    installLogSink();
    // Loaded after Vigil's logger (mocha without .mocharc.json's root hook): nothing to check here.
    if (!sinkActive()) this.skip();
  });

  it('receives the lines of every logger, a silent one included, at debug level and up', () => {
    const marker = `sink-check-${randomUUID()}`;
    createLogger('silent').debug({ marker }, 'a line nobody would see');
    createLogger('warn').info({ marker }, 'below this logger\u2019s level');
    const lines = recentSinkLines().filter((l) => l.includes(marker));
    assert.equal(lines.length, 2);
  });

  it('redaction still applies in the sink', () => {
    const marker = `sink-redact-${randomUUID()}`;
    createLogger('silent').warn({ marker, headers: { authorization: 'Bearer abc.def.ghi' }, clientSecret: 'not-to-be-seen' }, 'redacted');
    const line = recentSinkLines().find((l) => l.includes(marker))!;
    assert.ok(line.includes('[redacted]') && !line.includes('not-to-be-seen') && !line.includes('abc.def.ghi'), line);
  });
});

describe('security: the secrets search over the log lines', () => {
  it('finds registered secrets, bearer tokens, JWTs, demo client secrets and form secrets', () => {
    const jwt = ['eyJhbGciOiJSUzI1NiJ9', 'eyJhdWQiOiJ4eXoiLCJleHAiOjF9', 'c2lnbmF0dXJl'].join('.');
    const lines = [
      '{"msg":"fine","token":"[redacted]"}',
      `{"msg":"oops","detail":"password is hunter2-registered"}`,
      `{"msg":"oops","h":"Authorization: Bearer abcdefghijklmnopqrstuvwxyz0123"}`,
      `{"msg":"oops","t":"${jwt}"}`,
      `{"msg":"oops","s":"demo~AbCdEfGhIjKlMnOpQrStUvWx"}`,
      `{"msg":"oops","body":"grant_type=client_credentials&client_secret=s3cr3t-value"}`,
    ];
    const hits = findSecrets(lines, ['hunter2-registered']);
    assert.deepEqual([...new Set(hits.map((h) => h.line))], [2, 3, 4, 5, 6]);
    assert.ok(hits.every((h) => !h.excerpt.includes('hunter2-registered') && !h.excerpt.includes(jwt)), 'the report masks what it found');
  });
});
