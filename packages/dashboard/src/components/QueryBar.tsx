/**
 * The filter box: the collector's own parser checks every keystroke (errors underlined where
 * they are, with the parser's message), fields and values are completed from the language's
 * catalogue, Enter applies a valid filter.
 */
import { useEffect, useId, useMemo, useRef, useState, type KeyboardEvent } from 'react';
import { safeParseQuery, suggest, type QuerySuggestion } from '@nta/shared/query';

export interface QueryBarProps {
  value: string;
  onSubmit(q: string): void;
  /** An error the server reported for the applied filter. */
  serverError?: { message: string; position?: number } | null;
  placeholder?: string;
}

export interface QueryCheck {
  ok: boolean;
  message?: string;
  position?: number;
  length?: number;
}

export function checkQuery(text: string): QueryCheck {
  const r = safeParseQuery(text);
  if (r.ok) return { ok: true };
  return { ok: false, message: r.error.message, position: r.error.position, length: Math.max(1, r.error.length) };
}

export function QueryBar({ value, onSubmit, serverError, placeholder = 'proto:tcp and dport:443 and not level:normal' }: QueryBarProps) {
  const [draft, setDraft] = useState(value);
  const [cursor, setCursor] = useState(value.length);
  const [open, setOpen] = useState(false);
  // -1: nothing picked with the arrow keys yet, so Enter applies the filter rather than a suggestion.
  const [active, setActive] = useState(-1);
  const input = useRef<HTMLInputElement>(null);
  const listId = useId();
  const errorId = useId();

  useEffect(() => setDraft(value), [value]);

  const check = useMemo(() => checkQuery(draft), [draft]);
  const suggestions = useMemo(() => suggest(draft, cursor), [draft, cursor]);
  const items = suggestions.items.slice(0, 12);
  const showList = open && items.length > 0;
  const error = !check.ok ? check : draft === value && serverError ? { ok: false, message: serverError.message, position: serverError.position, length: 1 } : null;

  const accept = (item: QuerySuggestion) => {
    const next = draft.slice(0, suggestions.from) + item.insert + draft.slice(suggestions.to);
    const at = suggestions.from + item.insert.length;
    setDraft(next);
    setCursor(at);
    setActive(-1);
    // A completed field name asks for its value next; a completed value closes the list.
    setOpen(item.insert.endsWith(':'));
    requestAnimationFrame(() => input.current?.setSelectionRange(at, at));
  };

  const submit = () => {
    if (!check.ok) return;
    setOpen(false);
    onSubmit(draft.trim());
  };

  const onKeyDown = (e: KeyboardEvent<HTMLInputElement>) => {
    if (e.key === 'ArrowDown' || e.key === 'ArrowUp') {
      if (!showList) {
        if (items.length > 0) setOpen(true);
        return;
      }
      e.preventDefault();
      setActive((a) => (a < 0 ? (e.key === 'ArrowDown' ? 0 : items.length - 1) : (a + (e.key === 'ArrowDown' ? 1 : items.length - 1)) % items.length));
    } else if (showList && (e.key === 'Tab' || (e.key === 'Enter' && active >= 0))) {
      // Tab completes the highlighted (or first) suggestion of a list opened by typing.
      e.preventDefault();
      accept(items[Math.max(0, Math.min(active, items.length - 1))]!);
    } else if (e.key === 'Escape') {
      setOpen(false);
    } else if (e.key === 'Enter') {
      e.preventDefault();
      submit();
    }
  };

  const syncCursor = () => setCursor(input.current?.selectionStart ?? draft.length);

  return (
    <div className="relative w-full" data-testid="query-bar">
      <div className={`flex items-stretch overflow-hidden rounded-md border bg-ink/80 ${error ? 'border-danger' : 'border-control focus-within:border-neon'}`}>
        <span className="flex items-center pl-2 text-neon" aria-hidden="true">
          ❯
        </span>
        <div className="relative min-w-0 flex-1">
          <input
            ref={input}
            type="text"
            role="combobox"
            aria-label="Filter"
            aria-expanded={showList}
            aria-controls={listId}
            aria-autocomplete="list"
            aria-invalid={error ? true : undefined}
            aria-describedby={error ? errorId : undefined}
            aria-activedescendant={showList && active >= 0 ? `${listId}-${active}` : undefined}
            spellCheck={false}
            autoComplete="off"
            value={draft}
            placeholder={placeholder}
            onChange={(e) => {
              setDraft(e.target.value);
              setCursor(e.target.selectionStart ?? e.target.value.length);
              setOpen(true);
              setActive(-1);
            }}
            onKeyDown={onKeyDown}
            onKeyUp={syncCursor}
            onClick={syncCursor}
            onBlur={() => setTimeout(() => setOpen(false), 120)}
            className="w-full bg-transparent px-2 py-2 font-mono text-[13px] text-text placeholder:text-muted focus:outline-none"
          />
          {error && error.position !== undefined ? (
            <span
              aria-hidden="true"
              data-testid="query-error-mark"
              className="pointer-events-none absolute bottom-1 h-0.5 rounded bg-danger"
              style={{ left: `calc(0.5rem + ${Math.min(error.position, draft.length)}ch)`, width: `${Math.max(1, error.length ?? 1)}ch` }}
            />
          ) : null}
        </div>
        {draft && (
          <button type="button" aria-label="Clear filter" onClick={() => { setDraft(''); onSubmit(''); }} className="px-2 text-muted hover:text-text">
            ×
          </button>
        )}
        <button type="button" onClick={submit} disabled={!check.ok} className="border-l border-edge px-3 text-neon hover:bg-neon/10 disabled:cursor-not-allowed disabled:text-muted">
          Apply
        </button>
      </div>
      {error ? (
        <p id={errorId} role="alert" data-testid="query-error" className="mt-1 text-[11px] text-danger">
          {error.position !== undefined ? `at ${error.position + 1}: ` : ''}
          {error.message}
        </p>
      ) : null}
      {showList ? (
        <ul id={listId} role="listbox" aria-label="Suggestions" className="scrollbar-thin absolute z-30 mt-1 max-h-72 w-full overflow-auto rounded-md border border-edge bg-panel-2 py-1 shadow-xl" data-testid="query-suggestions">
          {items.map((item, i) => (
            <li
              key={`${item.label}-${i}`}
              id={`${listId}-${i}`}
              role="option"
              aria-selected={i === active}
              onMouseDown={(e) => {
                e.preventDefault();
                accept(item);
              }}
              onMouseEnter={() => setActive(i)}
              className={`flex cursor-pointer gap-3 px-3 py-1 ${i === active ? 'bg-neon/15' : ''}`}
            >
              <span className="shrink-0 text-neon">{item.label}</span>
              <span className="truncate text-muted">{item.detail}</span>
            </li>
          ))}
        </ul>
      ) : null}
    </div>
  );
}
