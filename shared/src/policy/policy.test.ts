import { readFileSync } from 'node:fs';
import { defaultPolicyPath, loadDefaultPolicy } from '../../../test/helpers/policy';
import { loadPolicy, formatPolicyError } from './index';

describe('policy loading', () => {
  it('loads the default ISSP pack with every rule the ISSP map asks for', () => {
    const policy = loadDefaultPolicy();
    expect(policy.rules.map((r) => [r.id, r.check.kind, r.issp])).toEqual([
      ['disk-encryption', 'encryption', ['9.10.6', '9.17.1', '9.17.2']],
      ['screen-lock', 'screenlock', ['9.11.7']],
      ['approved-software', 'software', ['9.2.2']],
      ['usb-storage', 'usb', ['9.10.3', '9.9.4']],
      ['agent-reporting', 'checkin', ['9.7.1']],
    ]);
    const screen = policy.rules.find((r) => r.id === 'screen-lock');
    expect(screen?.check).toEqual({ kind: 'screenlock', maxSeconds: 900, requirePassword: true });
  });

  it('names the file, the path inside it and the line of a wrong value', () => {
    const text = readFileSync(defaultPolicyPath, 'utf8').replace('maxSeconds: 900', 'maxSeconds: "fifteen"');
    const result = loadPolicy(text, 'policies/bad.yaml');
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.errors).toHaveLength(1);
    const [error] = result.errors;
    expect(error?.file).toBe('policies/bad.yaml');
    expect(error?.path).toBe('rules[1].check.maxSeconds');
    const expectedLine = text.split('\n').findIndex((l) => l.includes('"fifteen"')) + 1;
    expect(error?.line).toBe(expectedLine);
    expect(formatPolicyError(error!)).toMatch(new RegExp(`^policies/bad.yaml:${expectedLine}:\\d+: rules\\[1\\]\\.check\\.maxSeconds: `));
  });

  it('reports an unknown check kind and a missing title', () => {
    const text = `id: p\nversion: "1"\ntitle: { en: a, fr: b }\nrules:\n  - id: r1\n    issp: ["9.1"]\n    check: { kind: telepathy }\n    severity: low\n    graceDays: 1\n    remediation: { en: x, fr: y }\n`;
    const result = loadPolicy(text, 'p.yaml');
    expect(result.ok).toBe(false);
    if (result.ok) return;
    const paths = result.errors.map((e) => e.path).sort();
    expect(paths).toEqual(['rules[0].check.kind', 'rules[0].title']);
    expect(result.errors.find((e) => e.path === 'rules[0].check.kind')?.line).toBe(7);
  });

  it('reports YAML syntax errors with a line', () => {
    const result = loadPolicy('id: p\nrules: [\n  - broken', 'broken.yaml');
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.errors[0]?.file).toBe('broken.yaml');
    expect(result.errors[0]?.message).toMatch(/^YAML syntax/);
    expect(result.errors[0]?.line).toBeGreaterThan(0);
  });

  it('refuses duplicate rule ids', () => {
    const rule = `  - id: r1\n    title: { en: a, fr: b }\n    issp: ["9.1"]\n    check: { kind: usb }\n    severity: low\n    graceDays: 1\n    remediation: { en: x, fr: y }\n`;
    const result = loadPolicy(`id: p\nversion: "1"\ntitle: { en: a, fr: b }\nrules:\n${rule}${rule}`, 'dup.yaml');
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.errors[0]).toMatchObject({ path: 'rules[1].id', message: 'duplicate rule id "r1"' });
  });
});
