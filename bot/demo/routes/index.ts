/** The route table and the matcher that picks a route for a Graph path. */
import { GraphError } from '../errors';
import { authMethodRoutes } from './authMethods';
import type { GraphVersion, RouteDef } from './common';
import { mailRoutes } from './mail';
import { orgRoutes } from './org';
import { roleRoutes } from './roles';
import { securityRoutes } from './security';
import { userRoutes } from './users';
import { usersDeltaRoutes } from './usersDelta';

export type { RouteDef } from './common';

/** Order matters only where a literal and a parameter compete (`/users/$count` before `/users/{userId}`). */
export const ROUTES: RouteDef[] = [...usersDeltaRoutes, ...userRoutes, ...authMethodRoutes, ...roleRoutes, ...mailRoutes, ...orgRoutes, ...securityRoutes];

/** Every application permission some route accepts: what 'all' grants. */
export const ALL_PERMISSIONS: string[] = [...new Set(ROUTES.flatMap((r) => r.permissions))].sort();

interface CompiledRoute {
  def: RouteDef;
  segments: { literal?: string; param?: string }[];
}

const COMPILED: CompiledRoute[] = ROUTES.map((def) => ({
  def,
  segments: def.pattern
    .split('/')
    .filter(Boolean)
    .map((s) => (s.startsWith('{') ? { param: s.slice(1, -1) } : { literal: s.toLowerCase() })),
}));

export interface RouteMatch {
  route: RouteDef;
  params: Record<string, string>;
}

function decodeSegment(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

/** Length of the matching prefix of `segs` against a route (for "segment not found" errors). */
function prefixLength(route: CompiledRoute, segs: string[]): number {
  let i = 0;
  while (i < segs.length && i < route.segments.length) {
    const s = route.segments[i];
    if (s.literal !== undefined && s.literal !== segs[i].toLowerCase()) break;
    i++;
  }
  return i;
}

/**
 * Find the route for METHOD + path. Errors mimic Graph: an unknown segment is a
 * 400 "Resource not found for the segment 'x'", a wrong method a 405.
 */
export function matchRoute(method: string, rawPath: string, version: GraphVersion): RouteMatch {
  const segs = rawPath.split('/').filter(Boolean).map(decodeSegment);
  const available = COMPILED.filter((r) => !r.def.versions || r.def.versions.includes(version));
  let pathMatched = false;
  for (const r of available) {
    if (r.segments.length !== segs.length || prefixLength(r, segs) !== segs.length) continue;
    pathMatched = true;
    if (r.def.method !== method) continue;
    const params: Record<string, string> = {};
    r.segments.forEach((s, i) => {
      if (s.param) params[s.param] = segs[i];
    });
    return { route: r.def, params };
  }
  if (pathMatched) throw new GraphError(405, 'Request_BadRequest', 'Specified HTTP method is not allowed for the request target.');
  if (segs.length === 0) throw new GraphError(400, 'BadRequest', 'Invalid request.');
  const deepest = Math.max(0, ...available.map((r) => prefixLength(r, segs)));
  const seg = segs[Math.min(deepest, segs.length - 1)];
  throw new GraphError(400, 'BadRequest', `Resource not found for the segment '${seg}'.`);
}
