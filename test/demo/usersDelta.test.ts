/**
 * The demo tenant's GET /users/delta, over HTTPS with a real token: rounds paged with
 * @odata.nextLink and ended by @odata.deltaLink, the query encoded in the tokens, changes since a
 * link (new, changed — all selected properties, or only the changed ones with
 * `Prefer: return=minimal` — and removed), "sync from now", expiry after 7 days by the demo's
 * clock (400 syncStateNotFound) and the synchronization reset (410 Gone with a Location).
 */
import { strict as assert } from 'node:assert';
import { demoChanges, startDemoTenant, type DemoTenant } from '../../bot/demo';
import { credentialFor, raw } from './helpers';

describe('demo tenant: GET /users/delta', function () {
  this.timeout(20_000);
  let clock = new Date('2026-11-22T09:00:00Z');
  let demo: DemoTenant;
  let token: string;
  const get = (url: string, headers: Record<string, string> = {}) => raw(demo, 'GET', url.startsWith('https://') ? url.slice(demo.baseUrl.length) : url, { token, headers });

  /** Follow a round to its deltaLink; every item, and the link. */
  async function round(url: string, headers: Record<string, string> = {}): Promise<{ items: any[]; deltaLink: string; pages: number }> {
    const items: any[] = [];
    let pages = 0;
    for (let next: string | undefined = url; ; ) {
      const res = await get(next, headers);
      assert.equal(res.status, 200, res.text);
      pages++;
      items.push(...res.json.value);
      assert.ok(!(res.json['@odata.nextLink'] && res.json['@odata.deltaLink']), 'never both links on a page');
      if (res.json['@odata.deltaLink']) return { items, deltaLink: res.json['@odata.deltaLink'], pages };
      next = res.json['@odata.nextLink'];
      assert.ok(next, 'a page has one of the two links');
    }
  }

  before(async () => {
    demo = await startDemoTenant({ now: () => clock });
    token = (await credentialFor(demo).getToken(`${demo.baseUrl}/.default`))!.token;
  });
  after(async () => demo?.close());

  it('a first round returns every user with the selected properties, paged, $top ignored', async () => {
    const users = demo.tenant().userRecords.size;
    const { items, deltaLink, pages } = await round('/v1.0/users/delta?$select=displayName,accountEnabled&$top=2');
    assert.equal(items.length, users);
    assert.equal(pages, Math.ceil(users / demo.knobs.maxPageSize), 'the server picks the page size');
    assert.deepEqual(Object.keys(items[0]).sort(), ['accountEnabled', 'displayName', 'id']);
    assert.match(deltaLink, /\/v1\.0\/users\/delta\?\$deltatoken=/);
    assert.doesNotMatch(deltaLink, /select/i, 'the query is in the token');
    const again = await round(deltaLink);
    assert.deepEqual(again.items, [], 'nothing changed since');
  });

  it('changes since a link: new users, changed users (all selected or only the changed properties), removed users', async () => {
    const start = await round('/v1.0/users/delta?$select=displayName,jobTitle,accountEnabled');
    const joiner = demoChanges.addJoinerWithoutMfa(demo.tenant(), clock, { displayName: 'Nadia Rahman', userPrincipalName: 'nadia.rahman@northwinddental.co.uk' });
    const [changedId, removedId] = [...demo.tenant().userRecords.keys()].filter((k) => k !== joiner);
    const changed = demo.tenant().findUser(changedId)!.user;
    changed.displayName = 'Renamed Person';
    changed.jobTitle = undefined; // cleared: comes back as null
    demoChanges.removeUser(demo.tenant(), removedId);

    const full = await round(start.deltaLink);
    const byId = new Map(full.items.map((u) => [u.id.toLowerCase(), u]));
    assert.equal(full.items.length, 3);
    assert.deepEqual(byId.get(joiner), { id: joiner, displayName: 'Nadia Rahman', accountEnabled: true });
    assert.deepEqual(byId.get(changedId), { id: changed.id, displayName: 'Renamed Person', jobTitle: null, accountEnabled: changed.accountEnabled });
    assert.deepEqual(byId.get(removedId)['@removed'], { reason: 'changed' });

    const minimal = await round(start.deltaLink, { prefer: 'return=minimal' });
    const min = new Map(minimal.items.map((u) => [u.id.toLowerCase(), u]));
    assert.deepEqual(min.get(changedId), { id: changed.id, displayName: 'Renamed Person', jobTitle: null }, 'only what changed');
    assert.deepEqual(min.get(joiner), byId.get(joiner), 'a new user comes whole');
  });

  it('"sync from now": $deltatoken=latest gives a link and no users', async () => {
    const res = await get('/v1.0/users/delta?$select=id&$deltatoken=latest');
    assert.equal(res.status, 200);
    assert.deepEqual(res.json.value, []);
    assert.ok(res.json['@odata.deltaLink']);
  });

  it('refuses the queries Graph refuses', async () => {
    for (const q of ["$filter=accountEnabled eq true", '$orderby=displayName', '$expand=manager']) {
      const res = await get(`/v1.0/users/delta?${q}`);
      assert.equal(res.status, 400, q);
      assert.equal(res.json.error.code, 'Request_UnsupportedQuery');
    }
  });

  it('a link older than 7 days answers 400 syncStateNotFound; an unknown one too', async () => {
    const { deltaLink } = await round('/v1.0/users/delta?$select=id');
    clock = new Date(clock.getTime() + 6 * 86_400_000);
    assert.equal((await get(deltaLink)).status, 200, 'six days: still valid');
    clock = new Date(clock.getTime() + 2 * 86_400_000);
    const res = await get(deltaLink);
    assert.equal(res.status, 400);
    assert.equal(res.json.error.code, 'syncStateNotFound');
    const unknown = await get('/v1.0/users/delta?$deltatoken=nonsense');
    assert.equal(unknown.json.error.code, 'syncStateNotFound');
  });

  it('after a synchronization reset earlier links answer 410 Gone with a Location to start over', async () => {
    const { deltaLink } = await round('/v1.0/users/delta?$select=id');
    demoChanges.synchronizationReset(demo.tenant());
    const res = await get(deltaLink);
    assert.equal(res.status, 410);
    assert.match(String(res.headers.location), /\/v1\.0\/users\/delta\?\$deltatoken=$/);
    const fresh = await round(String(res.headers.location));
    assert.equal(fresh.items.length, demo.tenant().userRecords.size, 'the Location starts a full round');
  });
});
