/** The console's frame: header, navigation, range and host pickers, and the current view. */
import { lazy, Suspense, type ReactNode } from 'react';
import { AnimatePresence, domAnimation, LazyMotion, m, MotionConfig } from 'framer-motion';
import { ConsoleProvider } from './lib/console-state.js';
import { hrefFor, useUrlState, type View } from './lib/url-state.js';
import { Background } from './components/Background.js';
import { ConnectionBadge } from './components/ConnectionBadge.js';
import { HostPicker } from './components/HostPicker.js';
import { RangePicker } from './components/RangePicker.js';
import { Skeleton } from './components/ui.js';
import { Overview } from './views/Overview.js';
import { Threats } from './views/Threats.js';
import { Explorer } from './views/Explorer.js';
import { Agents } from './views/Agents.js';

// The map carries the world atlas: loaded when first opened.
const MapView = lazy(() => import('./views/MapView.js').then((mod) => ({ default: mod.MapView })));

const NAV: { view: View; label: string }[] = [
  { view: 'overview', label: 'Overview' },
  { view: 'map', label: 'Map' },
  { view: 'threats', label: 'Threats' },
  { view: 'explorer', label: 'Explorer' },
  { view: 'agents', label: 'Agents' },
];

function CurrentView({ view }: { view: View }): ReactNode {
  switch (view) {
    case 'overview':
      return <Overview />;
    case 'map':
      return <MapView />;
    case 'threats':
      return <Threats />;
    case 'explorer':
      return <Explorer />;
    case 'agents':
      return <Agents />;
  }
}

function Shell() {
  const [url, setUrl] = useUrlState();
  const onHostPage = url.view === 'agents' && url.agentId !== null;
  return (
    <div className="relative mx-auto flex min-h-screen max-w-[1800px] flex-col gap-3 px-3 py-3 sm:px-5">
      <Background />
      <header className="flex flex-wrap items-center gap-x-4 gap-y-2">
        <a href="#/overview" className="flex items-center gap-2" aria-label="NTA console home">
          <svg width="22" height="22" viewBox="0 0 16 16" aria-hidden="true">
            <rect width="16" height="16" rx="3" fill="#0a110e" stroke="#1c2e25" />
            <path d="M3 11l3-5 3 3 4-6" stroke="#39ff88" strokeWidth="1.6" fill="none" />
          </svg>
          <span className="glow text-base font-bold tracking-[0.3em] text-neon">NTA</span>
        </a>
        <nav aria-label="Views" className="scrollbar-thin order-3 flex w-full gap-1 overflow-x-auto sm:order-none sm:w-auto">
          {NAV.map((n) => {
            const on = url.view === n.view;
            return (
              <a key={n.view} href={hrefFor(url, { view: n.view, agentId: null })} aria-current={on ? 'page' : undefined} data-testid={`nav-${n.view}`} className={`shrink-0 rounded-md px-3 py-1 text-[12px] ${on ? 'bg-neon/15 text-neon shadow-[0_0_0_1px_#39ff8855_inset]' : 'text-muted hover:text-text'}`}>
                {n.label}
              </a>
            );
          })}
        </nav>
        <div className="ml-auto flex flex-wrap items-center gap-2">
          <ConnectionBadge />
        </div>
      </header>
      <div className="flex flex-wrap items-center justify-between gap-2">
        <RangePicker value={url.range} onChange={(range) => setUrl({ range })} />
        {onHostPage ? null : <HostPicker value={url.host} onChange={(host) => setUrl({ host })} />}
      </div>
      <main className="flex-1">
        <AnimatePresence mode="wait" initial={false}>
          <m.div key={`${url.view}/${url.agentId ?? ''}`} initial={{ opacity: 0, y: 6 }} animate={{ opacity: 1, y: 0 }} exit={{ opacity: 0, y: -6 }} transition={{ duration: 0.16 }}>
            <Suspense fallback={<Skeleton className="h-96" />}>
              <CurrentView view={url.view} />
            </Suspense>
          </m.div>
        </AnimatePresence>
      </main>
      <footer className="flex flex-wrap gap-x-4 gap-y-1 border-t border-edge pt-2 text-[10px] text-muted">
        <span>NTA console</span>
        <span>
          Geolocation: GeoLite2 data created by MaxMind, available from{' '}
          <a className="underline hover:text-text" href="https://www.maxmind.com" target="_blank" rel="noreferrer">
            maxmind.com
          </a>
        </span>
        <a className="underline hover:text-text" href="https://db-ip.com" target="_blank" rel="noreferrer">
          IP Geolocation by DB-IP
        </a>
        <a className="underline hover:text-text" href="/api/v1/docs" target="_blank" rel="noreferrer">
          API docs
        </a>
      </footer>
    </div>
  );
}

export function App() {
  return (
    <MotionConfig reducedMotion="user">
      <LazyMotion features={domAnimation} strict>
        <ConsoleProvider>
          <Shell />
        </ConsoleProvider>
      </LazyMotion>
    </MotionConfig>
  );
}
