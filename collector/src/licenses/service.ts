import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { isUnknown, type ApprovalStatus, type Facts, type OsName, type SoftwareCatalog } from '@vigie/shared';
import type { PolicyEvaluator } from '../evaluate/evaluator';
import type { Datastore, EvaluationResult, OrgScope } from '../store/datastore';
import { SqliteStore } from '../store/sqlite';
import { Normaliser, ruleErrors, type CatalogRule, type RuleInput } from './normalise';
import { overDeployments, reconcileFleet, type ReconciliationRow } from './reconcile';
import { LicenseStore, itemOs } from './store';
import { factsText } from '../util/facts-column';

export function defaultRulesPath(): string {
  return path.resolve(__dirname, '..', '..', 'catalog', 'default-rules.yaml');
}

const ruleFile = z.object({
  rules: z.array(
    z
      .object({
        name: z.string().min(1),
        publisher: z.string().min(1).optional(),
        os: z.enum(['windows', 'macos', 'linux']).optional(),
        product: z.string().min(1),
        version: z.string().min(1).optional(),
        ignore: z.boolean().optional(),
      })
      .strict(),
  ),
});

/** Reads the shipped dictionary; a broken file is a programming error (it ships with the code), so it throws. */
export function loadDefaultRules(file = defaultRulesPath()): RuleInput[] {
  const parsed = ruleFile.parse(parseYaml(readFileSync(file, 'utf8')));
  return parsed.rules.map((r, i) => {
    const rule: RuleInput = {
      position: (i + 1) * 10,
      namePattern: r.name,
      publisherPattern: r.publisher ?? null,
      os: r.os ?? null,
      product: r.product,
      versionPattern: r.version ?? null,
      ignore: r.ignore ?? false,
    };
    const errors = ruleErrors(rule);
    if (errors.length) throw new Error(`${file}: rule ${i + 1}: ${errors.map((e) => `${e.path}: ${e.message}`).join('; ')}`);
    return rule;
  });
}

export interface ReevaluationSummary {
  devices: number;
  results: EvaluationResult[];
}

/** Devices re-evaluated between two turns of the event loop after a catalog or approval change. */
const REEVALUATE_BATCH = 100;

/**
 * The licenses module: the catalog (normalisation rules + product approvals) the evaluator's
 * software rule reads, the normalised inventory kept by the store, and the reconciliation.
 */
export class LicenseService {
  readonly store: LicenseStore;
  private normaliser: Normaliser;
  private approvals = new Map<string, ApprovalStatus>();

  private constructor(
    private readonly sqlite: SqliteStore,
    private readonly evaluator: PolicyEvaluator | null,
  ) {
    this.store = new LicenseStore(sqlite.db);
    this.normaliser = new Normaliser([], 0);
  }

  /** The licenses module needs the SQLite store today; null on another store. */
  static open(store: Datastore, evaluator: PolicyEvaluator | null, now: Date, defaults: RuleInput[] = loadDefaultRules()): LicenseService | null {
    if (!(store instanceof SqliteStore)) return null;
    const service = new LicenseService(store, evaluator);
    service.init(defaults, now);
    return service;
  }

  private init(defaults: RuleInput[], now: Date): void {
    this.store.seedRules(defaults);
    this.normaliser = new Normaliser(this.store.listRules(), this.store.catalogVersion());
    this.approvals = this.store.approvals();
    if (this.evaluator) {
      this.evaluator.setSoftwareCatalog(this.catalog());
      const failOn = this.store.failOn();
      if (failOn) this.evaluator.setSoftwareFailOn(failOn);
    }
    this.sqlite.onFactsStored = (deviceId, os, previous, facts, at) => {
      // A delta that left the software section alone keeps the same object: nothing to do.
      if (previous && previous.software === facts.software) return;
      this.indexFacts(deviceId, os, facts, at);
    };
    // Rules applied under another catalog version (edited by an older collector), a database just
    // migrated to integer keys, or devices reported before this module existed (an upgraded
    // database): bring the inventory up to date.
    const applied = Number((this.sqlite.db.prepare("SELECT value FROM catalog_meta WHERE key = 'applied_catalog_version'").get() as { value: string } | undefined)?.value ?? 0);
    if (applied !== this.normaliser.catalogVersion || this.store.rebuildPending()) this.store.reapply(this.normaliser, now);
    this.backfill(now);
  }

  private indexFacts(deviceId: string, os: OsName | null, facts: Facts, now: Date): void {
    // Unknown software facts say nothing about what is installed: keep the last known inventory.
    if (!facts.software || isUnknown(facts.software)) return;
    this.store.indexDevice(this.normaliser, deviceId, os, facts.software.items, now);
  }

  private backfill(now: Date): void {
    const missing = this.sqlite.db
      .prepare('SELECT f.device_id, d.os FROM device_facts f JOIN devices d ON d.id = f.device_id WHERE NOT EXISTS (SELECT 1 FROM device_inventory i WHERE i.device_id = f.device_id)')
      .all() as { device_id: string; os: OsName }[];
    if (missing.length === 0) return;
    const factsOf = this.sqlite.db.prepare('SELECT facts FROM device_facts WHERE device_id = ?');
    this.sqlite.db.transaction(() => {
      for (const m of missing) this.indexFacts(m.device_id, m.os, JSON.parse(factsText((factsOf.get(m.device_id) as { facts: string | Buffer }).facts)) as Facts, now);
    })();
  }

  /** The software catalog the policy's approved-software rule reads. */
  catalog(): SoftwareCatalog {
    return {
      classify: (item) => {
        const n = this.normaliser.normalise(item, itemOs(item, null));
        // OS components and drivers are not software to approve.
        if (n.ignored) return { product: n.product, status: 'approved' };
        return { product: n.product, status: this.approvals.get(n.product) ?? 'unreviewed' };
      },
    };
  }

  catalogVersion(): number {
    return this.normaliser.catalogVersion;
  }

  defaultFailOn(): ApprovalStatus[] {
    const rule = this.evaluator?.policy.rules.find((r) => r.check.kind === 'software');
    return rule && rule.check.kind === 'software' ? rule.check.failOn : ['denied', 'unreviewed'];
  }

  // ---- Changes: each re-applies what it touches and re-evaluates the software rule where it may move ----

  /** After a rule change: a new normaliser, the inventory re-applied, the moved devices re-evaluated. */
  async rulesChanged(now: Date): Promise<{ catalogVersion: number; reapplied: ReturnType<LicenseStore['reapply']>; reevaluated: ReevaluationSummary }> {
    this.normaliser = new Normaliser(this.store.listRules(), this.store.catalogVersion());
    this.evaluator?.setSoftwareCatalog(this.catalog());
    const reapplied = this.store.reapply(this.normaliser, now);
    // The devices whose products moved: the only ones whose software finding can change.
    return { catalogVersion: this.normaliser.catalogVersion, reapplied, reevaluated: await this.reevaluate(reapplied.deviceIds, now) };
  }

  createRule(input: Omit<RuleInput, 'position'> & { position?: number }): CatalogRule {
    return this.store.createRule(input);
  }

  async setApproval(product: string, status: ApprovalStatus, reason: string | null, by: string, now: Date): Promise<ReevaluationSummary> {
    this.store.setApproval(product, status, reason, by, now);
    this.approvals = this.store.approvals();
    this.evaluator?.setSoftwareCatalog(this.catalog());
    return this.reevaluate(this.store.devicesWithProducts([product]), now);
  }

  async setFailOn(failOn: ApprovalStatus[], now: Date): Promise<ReevaluationSummary> {
    this.store.setFailOn(failOn);
    this.evaluator?.setSoftwareFailOn(failOn);
    return this.reevaluate(this.store.allDeviceIds(), now);
  }

  /** Only the software rule, and only on the devices given. */
  private async reevaluate(deviceIds: readonly string[], now: Date): Promise<ReevaluationSummary> {
    const results: EvaluationResult[] = [];
    if (!this.evaluator) return { devices: 0, results };
    const rules = new Set(this.evaluator.softwareRuleIds());
    for (let i = 0; i < deviceIds.length; i++) {
      // The store's calls resolve at once, so awaiting them never lets the event loop run: at fleet
      // scale (tens of thousands of devices) agents' reports and pings would wait for the whole pass.
      if (i > 0 && i % REEVALUATE_BATCH === 0) await new Promise<void>((resolve) => setImmediate(resolve));
      const r = await this.evaluator.reevaluateRules(deviceIds[i]!, rules, now);
      if (r) results.push(r);
    }
    return { devices: deviceIds.length, results };
  }

  // ---- Reconciliation ----

  /**
   * The open 9.15.4 findings a viewer may see: those of their orgs and `*` ones, and in those only
   * the devices of their orgs (a `*` finding names devices fleet-wide).
   */
  overDeploymentsFor(scope: OrgScope): ReturnType<LicenseStore['listOverDeployments']> {
    const all = this.store.listOverDeployments(false);
    if (scope === null) return all;
    const visible = new Set(scope);
    const findings = all.filter((o) => o.org === '*' || visible.has(o.org));
    const orgs = this.store.deviceOrgs(findings.flatMap((o) => o.beyondDevices.map((d) => d.deviceId)));
    return findings.map((o) => ({ ...o, beyondDevices: o.beyondDevices.filter((d) => visible.has(orgs.get(d.deviceId) ?? '')) }));
  }

  /**
   * The report for a viewer: licenses of the orgs they see (and `*` ones). Usage is computed over
   * the whole fleet, since a license's count does not depend on who looks; devices outside the
   * viewer's orgs are not named. The fleet-level 9.15.4 findings are refreshed from the same run.
   */
  report(scope: OrgScope, now: Date, expiringWithinDays: number): ReconciliationRow[] {
    const licenses = this.store.listLicenses();
    const usage = this.store.usage([...new Set(licenses.map((l) => l.product))], null);
    const rows = reconcileFleet(licenses, usage.devices, usage.installs, now, expiringWithinDays);
    this.store.syncOverDeployments(overDeployments(rows), now);
    if (scope === null) return rows;
    const visibleOrgs = new Set(scope);
    const visible = new Set<string>();
    usage.devices.deviceId.forEach((id, key) => {
      if (id !== undefined && visibleOrgs.has(usage.devices.org[key]!)) visible.add(id);
    });
    return rows
      .filter((r) => r.org === '*' || visibleOrgs.has(r.org))
      .map((r) => ({ ...r, beyondDevices: r.beyondDevices.filter((d) => visible.has(d.deviceId)) }));
  }
}
