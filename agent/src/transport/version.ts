import { capabilityNames, PROTOCOL_VERSION } from '@vigie/shared';

export { AGENT_VERSION } from '../version';
export { PROTOCOL_VERSION };

/** Everything this agent can do; a feature is used only when the collector's config lists it too. */
export const AGENT_CAPABILITIES: readonly string[] = [...capabilityNames];
