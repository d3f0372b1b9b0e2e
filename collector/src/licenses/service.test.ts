import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadPolicy, type SoftwareItem } from '@vigie/shared';
import { PolicyEvaluator } from '../evaluate/evaluator';
import { SqliteStore } from '../store/sqlite';
import { sampleDevice, sampleFacts } from '../testing/fixtures';
import { LicenseService } from './service';

const policyFile = join(__dirname, '..', '..', '..', 'shared', 'policies', 'issp-default.yaml');
const toolbar: SoftwareItem = { name: 'Sketchy Toolbar', version: '1.0', publisher: 'Unknown', source: 'registry', scope: 'machine', installedAt: null };

describe('LicenseService: re-evaluation after an approval change', () => {
  it('re-evaluates every device holding the product, letting the event loop run in between', async () => {
    const store = new SqliteStore({ path: ':memory:' });
    const loaded = loadPolicy(readFileSync(policyFile, 'utf8'), policyFile);
    if (!loaded.ok) throw new Error('the default policy does not load');
    const evaluator = new PolicyEvaluator(loaded.policy, store);
    const now = new Date('2026-03-02T09:00:00Z');
    const service = LicenseService.open(store, evaluator, now)!;
    const derive = evaluator.derive({ authorisedUsb: [] });
    const devices = 250;
    for (let i = 0; i < devices; i++) {
      const { device } = await store.enrollDevice({ newId: `d${i}`, machineId: `m${i}`, org: 'acme', tokenHash: `t${i}`, device: sampleDevice({ machineId: `m${i}`, os: 'windows' }), now });
      await store.applyReport({ deviceId: device.id, reportId: randomUUID(), seq: 1, collectedAt: now.toISOString(), body: { kind: 'full', facts: sampleFacts({ software: { items: [toolbar] } }, { machineId: `m${i}`, os: 'windows' }) }, dropped: 0, now }, derive);
    }
    const softwareRule = evaluator.softwareRuleIds()[0]!;
    const failing = () => (store.db.prepare("SELECT COUNT(*) AS n FROM findings WHERE rule_id = ? AND status = 'fail'").get(softwareRule) as { n: number }).n;
    const before = failing();

    let finished = false;
    let turnsDuring = 0;
    const tick = () => {
      if (finished) return;
      turnsDuring++;
      setImmediate(tick);
    };
    setImmediate(tick);
    // No catalog rule names it, so the product is the raw name.
    const product = 'Sketchy Toolbar';
    const summary = await service.setApproval(product, 'approved', 'reviewed', 'admin', now);
    finished = true;

    expect(summary.devices).toBe(devices);
    expect(failing()).toBeLessThan(before);
    // Other work (agents' reports, pings) got turns of the event loop while the pass ran.
    expect(turnsDuring).toBeGreaterThan(1);
    await store.close();
  });
});
