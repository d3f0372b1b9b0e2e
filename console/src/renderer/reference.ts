/** Rules and orgs for the filter menus, fetched once per session (per API client) and shared by the views. */
import { useEffect, useState } from 'react';
import type { Localised } from '@vigie/shared';
import type { ApiClient, User } from './api';

export interface Reference {
  rules: { id: string; title: Localised; issp: string[] }[];
  orgs: string[];
}

const cache = new WeakMap<ApiClient, Promise<Reference>>();

async function load(api: ApiClient, user: User): Promise<Reference> {
  const [policy, summary] = await Promise.all([
    api.policy(),
    user.orgs.includes('*') ? api.summary(1) : Promise.resolve(null),
  ]);
  const rules = policy.ok && Array.isArray(policy.value?.rules) ? policy.value.rules.map((r) => ({ id: r.id, title: r.title, issp: r.issp })) : [];
  const orgs = user.orgs.includes('*') ? (summary?.ok ? summary.value.byOrg.map((o) => o.org) : []) : user.orgs;
  return { rules, orgs: [...new Set(orgs)].sort((a, b) => a.localeCompare(b)) };
}

export function useReference(api: ApiClient, user: User): Reference {
  const [ref, setRef] = useState<Reference>({ rules: [], orgs: user.orgs.includes('*') ? [] : user.orgs });
  useEffect(() => {
    let p = cache.get(api);
    if (!p) {
      p = load(api, user);
      cache.set(api, p);
      // A failed load is retried by the next view that asks.
      void p.then((r) => {
        if (r.rules.length === 0) cache.delete(api);
      });
    }
    let alive = true;
    void p.then((r) => alive && setRef(r));
    return () => {
      alive = false;
    };
  }, [api, user]);
  return ref;
}
