/** Reported in heartbeats and --version; kept in step with package.json by hand. */
export const AGENT_VERSION = '0.1.0';
