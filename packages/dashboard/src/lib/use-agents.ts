/** The fleet list: pushed by the live stream, read from the REST API while the stream has none. */
import { api } from './api.js';
import { useLive } from './console-state.js';
import { useApi } from './use-api.js';
import type { Agent } from './api-types.js';

export function useAgents(): { agents: readonly Agent[] | null; error: Error | null; reload(): void } {
  const live = useLive();
  const fromStream = live.status === 'open' ? live.agents : null;
  const rest = useApi(fromStream ? null : 'agents', (s) => api.agents(s), 5_000);
  return { agents: fromStream ?? rest.data?.agents ?? live.agents ?? null, error: fromStream ? null : rest.error, reload: rest.reload };
}
