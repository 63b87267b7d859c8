/** The live connection's state, and a way to retry now while it is waiting to reconnect. */
import { useEffect, useState } from 'react';
import { useLive, useLiveConnection } from '../lib/console-state.js';

export function ConnectionBadge() {
  const s = useLive();
  const live = useLiveConnection();
  const [, setNow] = useState(0);
  useEffect(() => {
    if (s.status !== 'reconnecting') return;
    const id = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(id);
  }, [s.status]);
  const inS = s.retryAtMs ? Math.max(0, Math.ceil((s.retryAtMs - Date.now()) / 1000)) : 0;
  const tone = s.status === 'open' ? 'text-neon border-neon/40' : s.status === 'connecting' ? 'text-cyan border-cyan/40' : 'text-amber border-amber/50';
  const label = s.status === 'open' ? 'Live' : s.status === 'connecting' ? 'Connecting…' : s.status === 'offline' ? 'Offline' : 'Reconnecting';
  return (
    <div className={`flex items-center gap-2 rounded-full border px-2 py-0.5 text-[11px] ${tone}`} role="status" aria-live="polite" data-testid="connection" data-status={s.status} title={s.lastError ?? 'live stream connected'}>
      <span className={`h-2 w-2 rounded-full ${s.status === 'open' ? 'pulse-dot bg-neon' : s.status === 'connecting' ? 'bg-cyan' : 'bg-amber'}`} />
      <span>{label}</span>
      {/* The countdown is for the eye; screen readers hear the state change only, not every second. */}
      {s.status === 'reconnecting' ? <span aria-hidden="true">in {inS}s</span> : null}
      {s.status === 'reconnecting' || s.status === 'offline' ? (
        <button type="button" onClick={() => live.retryNow()} className="underline hover:text-text">
          retry
        </button>
      ) : null}
    </div>
  );
}
