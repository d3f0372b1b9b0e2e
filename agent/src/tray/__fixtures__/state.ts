import type { ConfigMessage, StatusMessage } from '@vigie/shared';
import type { TrayState } from '../state';

/**
 * A device as the collector would describe it: texts as the default policy pack
 * words them (shared/policies/issp-default.yaml), resolved for Windows.
 */
export const config: ConfigMessage = {
  type: 'config',
  intervalSeconds: 900,
  policyVersion: '2026.11.1',
  capabilities: ['rescan'],
  remediation: {
    'disk-encryption': {
      title: { en: 'System disk encrypted, with protection on', fr: 'Disque système chiffré, protection active' },
      steps: {
        en: 'Open Settings > Privacy & security > Device encryption and turn on BitLocker for C:.',
        fr: "Ouvrez Paramètres > Confidentialité et sécurité > Chiffrement de l'appareil et activez BitLocker pour C:.",
      },
    },
    'screen-lock': {
      title: { en: 'Screen locks with a password within 15 minutes of inactivity', fr: "Verrouillage de l'écran par mot de passe après 15 minutes d'inactivité au plus" },
      steps: { en: 'Open Settings > Personalisation > Lock screen.', fr: 'Ouvrez Paramètres > Personnalisation > Écran de verrouillage.' },
    },
    'usb-storage': {
      title: { en: 'No unauthorised USB storage', fr: 'Aucun support de stockage USB non autorisé' },
      steps: { en: 'Remove the drive.', fr: 'Retirez la clé.' },
    },
  },
};

export type Finding = StatusMessage['findings'][number];

export const pass = (ruleId: string): Finding => ({ ruleId, status: 'pass', severity: 'high', evidence: '', firstSeenAt: null, dueAt: null, exempted: false });
export const fail = (ruleId: string, firstSeenAt: string, dueAt: string | null, change: Partial<Finding> = {}): Finding => ({
  ruleId,
  status: 'fail',
  severity: 'critical',
  evidence: 'BitLocker off on C:',
  firstSeenAt,
  dueAt,
  exempted: false,
  ...change,
});

export function stateWith(findings: Finding[], change: Partial<TrayState> = {}, evaluatedAt = '2026-11-24T09:00:00Z'): TrayState {
  return {
    agentVersion: '0.1.0',
    collector: 'wss://vigie.example.fr:8443',
    lastReportAt: '2026-11-24T09:00:00Z',
    lastAckAt: '2026-11-24T09:00:01Z',
    config,
    status: { type: 'status', evaluatedAt, policyVersion: '2026.11.1', findings },
    connected: true,
    ...change,
  };
}
