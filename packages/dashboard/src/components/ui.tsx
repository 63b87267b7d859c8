/** Small building blocks: panels, skeletons, empty and error states, badges, stat tiles. */
import type { ReactNode } from 'react';
import type { Level } from '../lib/api-types.js';

export function Panel({ title, subtitle, actions, children, className = '', testId }: { title: string; subtitle?: ReactNode; actions?: ReactNode; children: ReactNode; className?: string; testId?: string }) {
  return (
    <section className={`panel flex min-w-0 flex-col p-3 sm:p-4 ${className}`} aria-label={title} data-testid={testId}>
      <header className="mb-3 flex flex-wrap items-baseline justify-between gap-2">
        <div className="min-w-0">
          <h2 className="text-[11px] font-semibold tracking-[0.18em] text-neon uppercase">{title}</h2>
          {subtitle ? <p className="mt-0.5 text-[11px] text-muted">{subtitle}</p> : null}
        </div>
        {actions ? <div className="flex items-center gap-2">{actions}</div> : null}
      </header>
      <div className="min-h-0 flex-1">{children}</div>
    </section>
  );
}

export function Skeleton({ className = 'h-40' }: { className?: string }) {
  return <div className={`skeleton w-full ${className}`} role="status" aria-label="loading" />;
}

export function EmptyState({ title, hint }: { title: string; hint: ReactNode }) {
  return (
    <div className="flex h-full min-h-24 flex-col items-center justify-center gap-1 rounded-md border border-dashed border-edge p-4 text-center" data-testid="empty-state">
      <p className="text-text">{title}</p>
      <p className="max-w-md text-[12px] text-muted">{hint}</p>
    </div>
  );
}

export function ErrorState({ error, onRetry }: { error: Error; onRetry?: () => void }) {
  return (
    <div role="alert" className="flex flex-col items-start gap-2 rounded-md border border-danger/60 bg-danger/10 p-3 text-[12px]" data-testid="error-state">
      <p className="font-semibold text-danger">Could not load this</p>
      <p className="text-text">{error.message}</p>
      {onRetry ? (
        <button type="button" onClick={onRetry} className="rounded border border-danger/60 px-2 py-0.5 text-danger hover:bg-danger/20">
          Try again
        </button>
      ) : null}
    </div>
  );
}

const LEVEL_STYLE: Record<Level, string> = {
  normal: 'border-neon-dim/60 text-neon',
  suspicious: 'border-amber/60 text-amber',
  malicious: 'border-danger/70 text-danger',
};

export function LevelBadge({ level }: { level: Level }) {
  return <span className={`inline-block rounded border px-1.5 py-px text-[10px] tracking-wider uppercase ${LEVEL_STYLE[level]}`}>{level}</span>;
}

export function StatTile({ label, value, exact, tone = 'neon', testId }: { label: string; value: string; exact?: string; tone?: 'neon' | 'cyan' | 'amber' | 'danger'; testId?: string }) {
  const color = { neon: 'text-neon', cyan: 'text-cyan', amber: 'text-amber', danger: 'text-danger' }[tone];
  return (
    <div className="panel min-w-0 px-3 py-2" data-testid={testId}>
      <p className="text-[10px] tracking-[0.16em] text-muted uppercase">{label}</p>
      <p className={`glow truncate text-xl font-semibold ${color}`} title={exact ?? value} data-value={exact ?? value}>
        {value}
      </p>
    </div>
  );
}

export function Segmented<T extends string>({ value, options, onChange, label }: { value: T; options: readonly { value: NoInfer<T>; label: string }[]; onChange(v: NoInfer<T>): void; label: string }) {
  return (
    <div role="radiogroup" aria-label={label} className="inline-flex overflow-hidden rounded-md border border-control text-[11px]">
      {options.map((o) => (
        <button
          key={o.value}
          type="button"
          role="radio"
          aria-checked={o.value === value}
          onClick={() => onChange(o.value)}
          className={`px-2 py-1 ${o.value === value ? 'bg-neon/15 text-neon' : 'text-muted hover:text-text'}`}
        >
          {o.label}
        </button>
      ))}
    </div>
  );
}
