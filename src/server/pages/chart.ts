/**
 * @module server/pages/chart
 * Issuances per month as a server-rendered SVG bar chart: no script, no inline style (the CSP
 * forbids `style=`; colours come from app.css classes), readable by screen readers through
 * <title>/<desc> and a table fallback the page renders beside it.
 */
import { html } from 'hono/html';
import type { Html } from './layout.js';

export interface MonthCount {
  /** `YYYY-MM`. */
  month: string;
  count: number;
}

/**
 * The last `months` calendar months up to `now`'s (oldest first) with how many of `dates` fall in
 * each; dates outside the window are not counted. Pure.
 */
export function perMonth(dates: readonly string[], now: Date, months = 12): MonthCount[] {
  const out: MonthCount[] = [];
  const y = now.getUTCFullYear();
  const m = now.getUTCMonth();
  for (let k = months - 1; k >= 0; k--) {
    const d = new Date(Date.UTC(y, m - k, 1));
    out.push({ month: d.toISOString().slice(0, 7), count: 0 });
  }
  const index = new Map(out.map((o, i) => [o.month, i]));
  for (const iso of dates) {
    const t = Date.parse(iso);
    if (Number.isNaN(t)) continue;
    const i = index.get(new Date(t).toISOString().slice(0, 7));
    if (i !== undefined) (out[i] as MonthCount).count++;
  }
  return out;
}

const W = 640;
const H = 200;
const PAD_L = 40;
const PAD_B = 28;
const PAD_T = 12;

export function monthChart(data: readonly MonthCount[], label: string): Html {
  const max = Math.max(1, ...data.map((d) => d.count));
  const plotW = W - PAD_L - 8;
  const plotH = H - PAD_B - PAD_T;
  const slot = plotW / Math.max(1, data.length);
  const barW = Math.max(2, slot * 0.7);
  const total = data.reduce((s, d) => s + d.count, 0);
  return html`<svg
    class="chart"
    viewBox="0 0 ${W} ${H}"
    role="img"
    aria-labelledby="chart-title chart-desc"
    xmlns="http://www.w3.org/2000/svg"
  >
    <title id="chart-title">${label}</title>
    <desc id="chart-desc">
      ${total} issuances in ${data.length} months; the table below lists each month.
    </desc>
    <line class="axis" x1="${PAD_L}" y1="${PAD_T + plotH}" x2="${W - 8}" y2="${PAD_T + plotH}"></line>
    <text class="tick" x="${PAD_L - 6}" y="${PAD_T + 4}" text-anchor="end">${max}</text>
    <text class="tick" x="${PAD_L - 6}" y="${PAD_T + plotH}" text-anchor="end">0</text>
    ${data.map((d, i) => {
      const h = Math.round((d.count / max) * plotH);
      const x = Math.round(PAD_L + i * slot + (slot - barW) / 2);
      return html`<rect
          class="bar"
          x="${x}"
          y="${PAD_T + plotH - h}"
          width="${Math.round(barW)}"
          height="${h}"
          ><title>${d.month}: ${d.count}</title></rect
        >
        <text class="tick" x="${Math.round(x + barW / 2)}" y="${H - 10}" text-anchor="middle"
          >${d.month.slice(2)}</text
        >`;
    })}
  </svg>`;
}
