/** An address as the console shows it everywhere: a red mark when known-bad, a click to pivot. */
import { useBadAddresses } from '../lib/console-state.js';

export function BadMark({ reason }: { reason: string }) {
  return (
    <span className="mr-1 inline-block h-2 w-2 shrink-0 rounded-full bg-danger shadow-[0_0_6px_#ff4d6d]" title={`Known bad: ${reason}`} aria-label={`known bad: ${reason}`} data-testid="bad-mark" role="img" />
  );
}

export function Address({ addr, onPivot, className = '' }: { addr: string; onPivot?: (addr: string) => void; className?: string }) {
  const bad = useBadAddresses();
  const reason = bad.reason(addr);
  const body = (
    <>
      {reason ? <BadMark reason={reason} /> : null}
      <span className={`truncate ${reason ? 'text-danger' : ''}`}>{addr}</span>
    </>
  );
  if (!onPivot) return <span className={`inline-flex min-w-0 items-center ${className}`}>{body}</span>;
  return (
    <button type="button" onClick={() => onPivot(addr)} title={`Filter by ip:${addr}`} className={`inline-flex min-w-0 items-center text-left hover:text-neon hover:underline ${className}`}>
      {body}
    </button>
  );
}
