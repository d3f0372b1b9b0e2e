import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Outbox, type OutboxDraft } from './outbox';
import { sampleFacts } from './__fixtures__/facts';

let dir: string;
beforeEach(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'vigie-outbox-'));
});
afterEach(async () => {
  await fs.rm(dir, { recursive: true, force: true });
});

let counter = 0;
function report(n = 0): OutboxDraft {
  counter += 1;
  const id = `00000000-0000-4000-8000-${String(counter).padStart(12, '0')}`;
  return { type: 'report', reportId: id, collectedAt: '2025-01-01T00:00:00.000Z', body: { kind: 'full', facts: sampleFacts(n) } };
}

describe('Outbox', () => {
  it('keeps messages across a restart, in seq order, and forgets only what is removed', async () => {
    const first = await Outbox.open(dir);
    const a = await first.add(report(1));
    const b = await first.add(report(2));
    const c = await first.add(report(3));
    expect([a, b, c].map((r) => r.entry.seq)).toEqual([1, 2, 3]);
    await first.remove(b.entry.id);

    // A "crash": nothing is closed, a new instance reads the same dir.
    const second = await Outbox.open(dir);
    expect(second.entries().map((e) => e.id)).toEqual([a.entry.id, c.entry.id]);
    expect(second.entries()[1]?.message).toEqual(c.entry.message);
    const d = await second.add(report(4));
    expect(d.entry.seq).toBe(4);
    // Files are named by zero-padded seq so a plain listing sorts them.
    expect((await fs.readdir(dir)).filter((f) => /^\d+\.json$/.test(f)).sort()).toEqual(['000000000001.json', '000000000003.json', '000000000004.json']);
  });

  it('never reuses a seq, even once everything was acknowledged', async () => {
    const first = await Outbox.open(dir);
    const a = await first.add(report());
    await first.remove(a.entry.id);
    const second = await Outbox.open(dir);
    expect(second.size).toBe(0);
    expect((await second.add(report())).entry.seq).toBe(2);
  });

  it('ignores and deletes a torn temporary file, and a damaged entry counts as dropped', async () => {
    const first = await Outbox.open(dir);
    const a = await first.add(report());
    await fs.writeFile(path.join(dir, '.tmp-000000000002.json-abc'), '{"seq":2,"mess');
    await fs.writeFile(path.join(dir, '000000000007.json'), '{"seq":7, torn');
    const second = await Outbox.open(dir);
    expect(second.entries().map((e) => e.id)).toEqual([a.entry.id]);
    expect(second.droppedPending).toBe(1);
    expect((await fs.readdir(dir)).some((f) => f.startsWith('.tmp-'))).toBe(false);
  });

  it('drops the oldest when full, counts the drops on disk and reports them in the next report', async () => {
    const box = await Outbox.open(dir, { maxEntries: 3 });
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) ids.push((await box.add(report(i))).entry.id);
    const usb: OutboxDraft = {
      type: 'usb-event',
      eventId: '10000000-0000-4000-8000-000000000001',
      event: { at: '2025-01-01T00:00:00Z', action: 'connected', device: { vendorId: '0781', productId: '5581', vendor: null, product: null, serial: null, storage: true, mountPoints: [] }, user: null },
    };
    const added = await box.add(usb);
    expect(added.evicted.map((e) => e.id)).toEqual([ids[0]]);
    expect(box.entries().map((e) => e.id)).toEqual([ids[1], ids[2], usb.eventId]);
    // Events do not carry the count; it waits for the next report, and survives a restart.
    const reopened = await Outbox.open(dir, { maxEntries: 3 });
    expect(reopened.droppedPending).toBe(1);
    const next = await reopened.add(report());
    expect(next.evicted.map((e) => e.id)).toEqual([ids[1]]);
    expect(next.entry.message.type === 'report' && next.entry.message.dropped).toBe(2);
    expect(reopened.droppedPending).toBe(0);
    // Dropping a report that carried drops counts those again, so none is ever lost from the tally.
    const last = await reopened.add(report());
    expect(last.entry.message.type === 'report' && last.entry.message.dropped).toBe(1);
    const afterUsb = await reopened.add(report());
    expect(afterUsb.evicted.map((e) => e.id)).toEqual([usb.eventId]);
    const final = await reopened.add(report());
    expect(final.evicted.map((e) => e.id)).toEqual([next.entry.id]);
    expect(final.entry.message.type === 'report' && final.entry.message.dropped).toBe(2 + 1);
  });

  it('bounds bytes too, always keeping the newest message', async () => {
    const box = await Outbox.open(dir, { maxBytes: 1500 });
    await box.add(report());
    await box.add(report());
    expect(box.size).toBeLessThan(2);
    expect(box.bytes).toBeLessThanOrEqual(1500);
    const tiny = await Outbox.open(dir, { maxBytes: 10 });
    const big = await tiny.add(report());
    expect(tiny.entries().map((e) => e.id)).toEqual([big.entry.id]);
  });

  it('discard removes a refused message and counts it as dropped', async () => {
    const box = await Outbox.open(dir);
    const a = await box.add(report());
    await box.discard(a.entry.id);
    expect(box.size).toBe(0);
    expect(box.droppedPending).toBe(1);
  });

  it('keeps the files readable by the agent only', async () => {
    if (process.platform === 'win32') return;
    const box = await Outbox.open(dir);
    const a = await box.add(report());
    const stat = await fs.stat(path.join(dir, `${String(a.entry.seq).padStart(12, '0')}.json`));
    expect(stat.mode & 0o777).toBe(0o600);
  });
});
