import { sampleFacts, type Facts } from '../facts';
import {
  applyDelta,
  changedSections,
  encodeMessage,
  errorCodes,
  factsHash,
  parseMessage,
  PROTOCOL_VERSION,
  utf8ByteLength,
  type Message,
} from './index';

const reportId = '3b241101-e2bb-4255-8caf-4136c566a962';
const stick = { vendorId: '0781', productId: '5581', vendor: 'SanDisk', product: 'Ultra', serial: '4C53', storage: true, mountPoints: [] };

const samples: Message[] = [
  { type: 'hello', protocolVersion: PROTOCOL_VERSION, agentVersion: '0.1.0', capabilities: ['delta-reports'], deviceId: 'm-1', os: 'linux', token: 'a'.repeat(43) },
  { type: 'enroll', secret: 'enrol-secret-123', device: sampleFacts().device as Extract<Facts['device'], { machineId: string }> },
  { type: 'enrolled', deviceId: 'm-1', org: 'paris', token: 'b'.repeat(43) },
  { type: 'report', reportId, seq: 0, collectedAt: '2026-11-29T08:00:00.000Z', body: { kind: 'full', facts: sampleFacts() }, dropped: 0 },
  { type: 'report', reportId, seq: 1, collectedAt: '2026-11-29T08:15:00.000Z', body: { kind: 'delta', baseHash: 'f'.repeat(64), sections: { screenlock: { unknown: true, reason: 'no session' } } }, dropped: 2 },
  { type: 'ack', id: reportId, status: 'stored', factsHash: '0'.repeat(64) },
  { type: 'usb-event', eventId: reportId, event: { at: '2026-11-29T08:00:00Z', action: 'connected', device: stick, user: 'jd' } },
  { type: 'config', intervalSeconds: 900, policyVersion: '2026.11.1', capabilities: ['delta-reports'], remediation: { 'disk-encryption': { title: { en: 'a', fr: 'b' }, steps: { en: 'c', fr: 'd' } } } },
  { type: 'status', evaluatedAt: '2026-11-29T08:00:01.000Z', policyVersion: '2026.11.1', findings: [{ ruleId: 'disk-encryption', status: 'fail', severity: 'critical', evidence: 'C: is not encrypted', firstSeenAt: '2026-11-29T08:00:01.000Z', dueAt: '2026-12-06T08:00:01.000Z', exempted: false }] },
  { type: 'rescan' },
  { type: 'error', code: 'need-full-report', message: 'base unknown', id: reportId },
];

describe('protocol messages', () => {
  it.each(samples.map((m) => [m.type, m] as const))('round-trips %s', (_type, msg) => {
    const parsed = parseMessage(encodeMessage(msg));
    expect(parsed).toEqual({ ok: true, message: msg });
  });

  it.each([
    ['not JSON', '{"type":"hello",', 'malformed'],
    ['binary', Buffer.from('{}'), 'malformed'],
    ['an unknown type', '{"type":"shutdown"}', 'schema'],
    ['no type', '{"reportId":"x"}', 'schema'],
    ['a JSON array', '[1,2,3]', 'schema'],
    ['null', 'null', 'schema'],
    ['a hello with a string version', JSON.stringify({ ...samples[0], protocolVersion: '1' }), 'schema'],
    ['a report whose id is not a UUID', JSON.stringify({ ...samples[3], reportId: '42' }), 'schema'],
    ['a report with a negative seq', JSON.stringify({ ...samples[3], seq: -1 }), 'schema'],
    ['a delta with a short base hash', JSON.stringify({ ...samples[4], body: { kind: 'delta', baseHash: 'abc', sections: {} } }), 'schema'],
    ['a full report missing a section', JSON.stringify({ ...samples[3], body: { kind: 'full', facts: { ...sampleFacts(), usb: undefined } } }), 'schema'],
    ['an error with a code outside the list', JSON.stringify({ type: 'error', code: 'teapot', message: 'x' }), 'schema'],
    ['an extra field', JSON.stringify({ ...samples[9], admin: true }), 'schema'],
  ])('refuses %s with a typed error', (_label, frame, code) => {
    const result = parseMessage(frame);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.error.code).toBe(code);
  });

  it('refuses an oversized frame before parsing it', () => {
    const big = JSON.stringify({ type: 'error', code: 'internal', message: 'x'.repeat(2000) });
    expect(parseMessage(big, 1000)).toEqual({ ok: false, error: { code: 'too-large', message: 'frame exceeds 1000 bytes' } });
    expect(parseMessage('{' + ' '.repeat(10_000_000), 4096).ok).toBe(false);
  });

  it('counts multi-byte characters against the frame limit', () => {
    expect(utf8ByteLength('é')).toBe(2);
    expect(utf8ByteLength('€')).toBe(3);
    expect(utf8ByteLength('😀')).toBe(4);
    const frame = JSON.stringify({ type: 'error', code: 'internal', message: 'é'.repeat(600) });
    expect(frame.length).toBeLessThan(1000);
    expect(parseMessage(frame, 1000).ok).toBe(false);
  });

  it('lists each error code once', () => {
    expect(new Set(errorCodes).size).toBe(errorCodes.length);
  });
});

describe('facts hash and deltas', () => {
  it('hashes independently of key order', () => {
    const a = sampleFacts();
    const b = JSON.parse(JSON.stringify({ usb: a.usb, software: a.software, screenlock: a.screenlock, encryption: a.encryption, device: a.device })) as Facts;
    expect(factsHash(a)).toBe(factsHash(b));
    expect(factsHash(a)).toMatch(/^[0-9a-f]{64}$/);
  });

  it('changes when a value changes', () => {
    const a = sampleFacts();
    const b = sampleFacts();
    if ('enabled' in b.screenlock) b.screenlock.idleSeconds = 601;
    expect(factsHash(a)).not.toBe(factsHash(b));
  });

  it('carries only the changed sections, and applying them rebuilds the facts', () => {
    const before = sampleFacts();
    const after = sampleFacts();
    after.usb = { devices: [stick], events: [] };
    const delta = changedSections(before, after);
    expect(Object.keys(delta)).toEqual(['usb']);
    expect(factsHash(applyDelta(before, delta))).toBe(factsHash(after));
    expect(changedSections(before, sampleFacts())).toEqual({});
  });
});
