/** Live, relative presets, or an absolute range (local time inputs). */
import { useState } from 'react';
import { fromLocalInput, PRESETS, rangeLabel, resolveRange, sameRange, toLocalInput, type TimeRange } from '../lib/time-range.js';

export function RangePicker({ value, onChange }: { value: TimeRange; onChange(r: TimeRange): void }) {
  const [custom, setCustom] = useState(false);
  const resolved = resolveRange(value, Date.now());
  const [from, setFrom] = useState(toLocalInput(resolved.fromMs));
  const [to, setTo] = useState(toLocalInput(resolved.toMs));
  const fromMs = fromLocalInput(from);
  const toMs = fromLocalInput(to);
  const invalid = !Number.isFinite(fromMs) || !Number.isFinite(toMs) ? 'both times are needed' : toMs <= fromMs ? 'the end must be after the start' : null;

  return (
    <div className="relative flex flex-wrap items-center gap-1" data-testid="range-picker">
      <div role="radiogroup" aria-label="Time range" className="scrollbar-thin flex max-w-full overflow-x-auto rounded-md border border-control text-[11px]">
        {PRESETS.map((p) => {
          const on = sameRange(p.range, value);
          return (
            <button
              key={p.label}
              type="button"
              role="radio"
              aria-checked={on}
              onClick={() => {
                setCustom(false);
                onChange(p.range);
              }}
              className={`shrink-0 px-2 py-1 ${on ? 'bg-neon/15 text-neon' : 'text-muted hover:text-text'}`}
            >
              {p.range.kind === 'live' ? <span className={`mr-1 inline-block h-1.5 w-1.5 rounded-full ${on ? 'pulse-dot bg-neon' : 'bg-muted'}`} /> : null}
              {p.label}
            </button>
          );
        })}
        <button
          type="button"
          role="radio"
          aria-checked={value.kind === 'absolute'}
          onClick={() => setCustom((c) => !c)}
          className={`shrink-0 px-2 py-1 ${value.kind === 'absolute' ? 'bg-neon/15 text-neon' : 'text-muted hover:text-text'}`}
        >
          {value.kind === 'absolute' ? rangeLabel(value) : 'Custom…'}
        </button>
      </div>
      {custom ? (
        <form
          className="panel absolute top-full right-0 z-40 mt-1 flex w-72 flex-col gap-2 p-3"
          onSubmit={(e) => {
            e.preventDefault();
            if (invalid) return;
            setCustom(false);
            onChange({ kind: 'absolute', fromMs, toMs });
          }}
        >
          <label className="flex flex-col gap-1 text-[11px] text-muted">
            From (local time)
            <input type="datetime-local" value={from} onChange={(e) => setFrom(e.target.value)} className="rounded border border-control bg-ink px-2 py-1 text-text" />
          </label>
          <label className="flex flex-col gap-1 text-[11px] text-muted">
            To
            <input type="datetime-local" value={to} onChange={(e) => setTo(e.target.value)} className="rounded border border-control bg-ink px-2 py-1 text-text" />
          </label>
          {invalid ? <p className="text-[11px] text-danger">{invalid}</p> : null}
          <button type="submit" disabled={invalid !== null} className="rounded border border-neon/60 py-1 text-neon hover:bg-neon/10 disabled:text-muted">
            Show this range
          </button>
        </form>
      ) : null}
    </div>
  );
}
