import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadPolicy, type Facts, type SoftwareCatalog, type SoftwareItem } from '@vigie/shared';
import { SqliteStore } from '../store/sqlite';
import { sampleDevice, sampleFacts } from '../testing/fixtures';
import { PolicyEvaluator } from './evaluator';

const policyFile = join(__dirname, '..', '..', '..', 'shared', 'policies', 'issp-default.yaml');

describe('PolicyEvaluator: remembered software verdicts', () => {
  const item = (over: Partial<SoftwareItem> = {}): SoftwareItem => ({ name: 'Sketchy Toolbar', version: '1.0', publisher: 'Unknown', source: 'registry', scope: 'machine', installedAt: null, ...over });

  async function evaluatorWith(catalog: SoftwareCatalog) {
    const store = new SqliteStore({ path: ':memory:' });
    const loaded = loadPolicy(readFileSync(policyFile, 'utf8'), policyFile);
    if (!loaded.ok) throw new Error('the default policy does not load');
    const evaluator = new PolicyEvaluator(loaded.policy, store);
    evaluator.setSoftwareCatalog(catalog);
    const derive = evaluator.derive({ authorisedUsb: [] });
    const device = { ...(await store.enrollDevice({ newId: 'd1', machineId: 'm1', org: 'acme', tokenHash: 't', device: sampleDevice({ machineId: 'm1', os: 'windows' }), now: new Date() })).device };
    const evaluate = (items: SoftwareItem[]) => {
      const facts: Facts = sampleFacts({ software: { items } }, { os: 'windows' });
      return derive({ device, previous: null, facts, lastSeenAt: new Date(), now: new Date() }).findings.find((f) => f.ruleId.includes('software'))!;
    };
    return { evaluate, store, evaluator };
  }

  it('asks the catalog once per distinct item, and again after the catalog changes', async () => {
    const classify = jest.fn((i: SoftwareItem) => ({ product: i.name, status: i.name === 'Sketchy Toolbar' ? ('denied' as const) : ('approved' as const) }));
    const { evaluate, store, evaluator } = await evaluatorWith({ classify });
    expect(evaluate([item()]).status).toBe('fail');
    // The same item in a new report (a new object): remembered.
    expect(evaluate([item()]).status).toBe('fail');
    expect(classify).toHaveBeenCalledTimes(1);
    // Any field differing is another item.
    evaluate([item({ version: '1.1' })]);
    evaluate([item({ publisher: null })]);
    expect(classify).toHaveBeenCalledTimes(3);
    // An approval or rule change installs a new catalog: nothing remembered from the old one.
    const approvedNow = jest.fn((i: SoftwareItem) => ({ product: i.name, status: 'approved' as const }));
    evaluator.setSoftwareCatalog({ classify: approvedNow });
    expect(evaluate([item()]).status).toBe('pass');
    expect(approvedNow).toHaveBeenCalledTimes(1);
    await store.close();
  });

  it('cannot be poisoned by a name crafted to look like another item', async () => {
    const classify = jest.fn((i: SoftwareItem) => ({ product: i.name, status: i.name === 'Sketchy Toolbar' ? ('denied' as const) : ('approved' as const) }));
    const { evaluate, store } = await evaluatorWith({ classify });
    // With a plain separator, this name followed by that publisher would spell the denied item's key.
    evaluate([item({ name: 'Sketchy Toolbar\u0000Unknown', publisher: null, version: '1.0' })]);
    expect(evaluate([item()]).status).toBe('fail');
    expect(classify).toHaveBeenCalledTimes(2);
    await store.close();
  });
});
