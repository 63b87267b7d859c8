/**
 * The animated neon grid behind the console: a perspective floor drifting towards the viewer.
 * Drawn on one canvas at a modest frame rate, paused when the tab is hidden, and a still
 * frame under prefers-reduced-motion.
 */
import { useEffect, useRef } from 'react';

export function Background() {
  const ref = useRef<HTMLCanvasElement>(null);
  useEffect(() => {
    const canvas = ref.current;
    const ctx = canvas?.getContext('2d');
    if (!canvas || !ctx) return;
    const motion = window.matchMedia('(prefers-reduced-motion: reduce)');
    let raf = 0;
    let last = 0;
    let offset = 0;
    const resize = () => {
      const dpr = Math.min(window.devicePixelRatio || 1, 2);
      canvas.width = Math.floor(window.innerWidth * dpr);
      canvas.height = Math.floor(window.innerHeight * dpr);
      ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
      draw();
    };
    const draw = () => {
      const w = window.innerWidth;
      const h = window.innerHeight;
      ctx.clearRect(0, 0, w, h);
      const horizon = h * 0.42;
      ctx.lineWidth = 1;
      // Receding horizontal lines, spaced by perspective.
      for (let i = 0; i < 18; i++) {
        const z = (i + offset) / 18;
        const y = horizon + (h - horizon) * z * z;
        ctx.strokeStyle = `rgba(57,255,136,${0.025 + 0.07 * z})`;
        ctx.beginPath();
        ctx.moveTo(0, y);
        ctx.lineTo(w, y);
        ctx.stroke();
      }
      // Lines converging on a vanishing point.
      const cx = w / 2;
      ctx.strokeStyle = 'rgba(57,255,136,0.05)';
      for (let i = -16; i <= 16; i++) {
        ctx.beginPath();
        ctx.moveTo(cx + i * 8, horizon);
        ctx.lineTo(cx + i * (w / 8), h);
        ctx.stroke();
      }
      const glow = ctx.createRadialGradient(cx, horizon, 0, cx, horizon, w * 0.6);
      glow.addColorStop(0, 'rgba(57,255,136,0.06)');
      glow.addColorStop(1, 'rgba(0,0,0,0)');
      ctx.fillStyle = glow;
      ctx.fillRect(0, 0, w, h);
    };
    const frame = (t: number) => {
      raf = requestAnimationFrame(frame);
      if (t - last < 66) return; // ~15 frames a second is smooth enough for a slow drift
      last = t;
      offset = (offset + 0.02) % 1;
      draw();
    };
    const start = () => {
      cancelAnimationFrame(raf);
      if (!motion.matches && document.visibilityState === 'visible') raf = requestAnimationFrame(frame);
      else draw();
    };
    resize();
    start();
    window.addEventListener('resize', resize);
    motion.addEventListener('change', start);
    document.addEventListener('visibilitychange', start);
    return () => {
      cancelAnimationFrame(raf);
      window.removeEventListener('resize', resize);
      motion.removeEventListener('change', start);
      document.removeEventListener('visibilitychange', start);
    };
  }, []);
  return <canvas ref={ref} aria-hidden="true" data-testid="background" className="pointer-events-none fixed inset-0 -z-10 h-full w-full" />;
}
