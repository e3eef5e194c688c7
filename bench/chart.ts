// A hand-written SVG chart of the benchmark: one panel per scenario and measure (decisions per second on the top
// row, p99 latency on the bottom row), one bar per strategy, each panel on its own linear scale, values printed.
//
// run.ts writes it with the results; `node dist/bench/chart.js bench/results/<date>.json` redraws it from a results
// file (next to it, same name with .svg).

import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { SummaryRow } from './report.js';

export interface ChartBar {
  target: string;
  value: number;
}

export interface ChartPanel {
  title: string;
  unit: string;
  bars: ChartBar[];
}

const colors: Record<string, string> = {
  engine: '#1b7837',
  'engine+sse': '#7fbc41',
  pessimistic: '#b2182b',
  optimistic: '#ef8a62',
  constraint: '#67a9cf',
  'no-op express': '#999999',
  'no-op node:http': '#cccccc',
};
const fallback = ['#762a83', '#5aae61', '#2166ac', '#d6604d'];

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

function niceMax(v: number): number {
  if (!(v > 0)) return 1;
  const p = 10 ** Math.floor(Math.log10(v));
  for (const m of [1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10]) if (m * p >= v) return m * p;
  return 10 * p;
}

function fmt(v: number): string {
  if (!Number.isFinite(v)) return 'n/a';
  if (v >= 10_000) return `${Math.round(v / 100) / 10}k`;
  if (v >= 100) return String(Math.round(v));
  return String(Math.round(v * 10) / 10);
}

export function svgChart(options: { title: string; subtitle: string; rows: ChartPanel[][] }): string {
  const panelW = 300;
  const panelH = 230;
  const padL = 56;
  const padT = 70;
  const gapX = 70;
  const gapY = 60;
  const cols = Math.max(...options.rows.map((r) => r.length));
  const targets = [...new Set(options.rows.flat().flatMap((p) => p.bars.map((b) => b.target)))];
  const colorOf = (t: string) => colors[t] ?? fallback[targets.indexOf(t) % fallback.length];
  const width = padL + cols * panelW + (cols - 1) * gapX + 30;
  const legendY = padT + options.rows.length * (panelH + gapY) - 20;
  const height = legendY + 40;
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="Helvetica, Arial, sans-serif" font-size="12">`,
    `<rect width="100%" height="100%" fill="#ffffff"/>`,
    `<text x="${padL}" y="26" font-size="18" font-weight="bold">${esc(options.title)}</text>`,
    `<text x="${padL}" y="46" fill="#555">${esc(options.subtitle)}</text>`,
  ];
  options.rows.forEach((row, r) => {
    row.forEach((panel, c) => {
      const x0 = padL + c * (panelW + gapX);
      const y0 = padT + r * (panelH + gapY);
      const plotH = panelH - 40;
      const max = niceMax(1.1 * Math.max(0, ...panel.bars.map((b) => (Number.isFinite(b.value) ? b.value : 0))));
      out.push(`<text x="${x0}" y="${y0 - 8}" font-weight="bold">${esc(panel.title)}</text>`);
      for (let g = 0; g <= 4; g++) {
        const y = y0 + plotH - (plotH * g) / 4;
        out.push(`<line x1="${x0}" y1="${y}" x2="${x0 + panelW}" y2="${y}" stroke="#e5e5e5"/>`);
        out.push(`<text x="${x0 - 6}" y="${y + 4}" text-anchor="end" fill="#666" font-size="10">${fmt((max * g) / 4)}</text>`);
      }
      out.push(`<text x="${x0 - 44}" y="${y0 + plotH / 2}" transform="rotate(-90 ${x0 - 44} ${y0 + plotH / 2})" text-anchor="middle" fill="#666" font-size="10">${esc(panel.unit)}</text>`);
      const n = panel.bars.length;
      const slot = panelW / Math.max(1, n);
      const barW = Math.min(48, slot * 0.7);
      panel.bars.forEach((b, i) => {
        const v = Number.isFinite(b.value) ? b.value : 0;
        const h = (plotH * v) / max;
        const x = x0 + i * slot + (slot - barW) / 2;
        const y = y0 + plotH - h;
        out.push(`<rect x="${x}" y="${y}" width="${barW}" height="${Math.max(0, h)}" fill="${colorOf(b.target)}"><title>${esc(`${b.target}: ${fmt(b.value)} ${panel.unit}`)}</title></rect>`);
        out.push(`<text x="${x + barW / 2}" y="${y - 4}" text-anchor="middle" font-size="10">${fmt(b.value)}</text>`);
        out.push(`<text x="${x + barW / 2}" y="${y0 + plotH + 14}" text-anchor="middle" font-size="9" fill="#333">${esc(b.target.replace(' express', ''))}</text>`);
      });
      out.push(`<line x1="${x0}" y1="${y0 + plotH}" x2="${x0 + panelW}" y2="${y0 + plotH}" stroke="#333"/>`);
    });
  });
  let lx = padL;
  for (const t of targets) {
    out.push(`<rect x="${lx}" y="${legendY}" width="12" height="12" fill="${colorOf(t)}"/>`);
    out.push(`<text x="${lx + 16}" y="${legendY + 10}">${esc(t)}</text>`);
    lx += 30 + t.length * 7;
  }
  out.push('</svg>');
  return out.join('\n') + '\n';
}

/** The benchmark's chart from its summary rows: decisions/s on the top row, p99 on the bottom, a panel per scenario. */
export function benchChart(options: { summary: SummaryRow[]; scenarios: string[]; order: string[]; date: string; subtitle: string }): string {
  const panels = (measure: 'decisionsPerSecond' | 'p99'): ChartPanel[] =>
    options.scenarios.map((s) => ({
      title: `${s}: ${measure === 'p99' ? 'p99 latency' : 'decisions per second'}`,
      unit: measure === 'p99' ? 'ms' : 'decisions/s',
      bars: options.order
        .map((t) => options.summary.find((r) => r.scenario === s && r.target === t))
        .filter((r): r is SummaryRow => !!r)
        .map((r) => ({ target: r.target, value: measure === 'p99' ? r.p99 : r.decisionsPerSecond })),
    }));
  return svgChart({
    title: `Reservation engine vs lock-based baselines (${options.date})`,
    subtitle: options.subtitle,
    rows: [panels('decisionsPerSecond'), panels('p99')],
  });
}

async function main(file: string): Promise<void> {
  const r = JSON.parse(await readFile(file, 'utf8')) as {
    date: string;
    summary: SummaryRow[];
    settings: { rounds: number; scenarios: string[]; strategies: string[] };
    host: { cores: number; atStart: number[]; atEnd: number[] };
  };
  const svg = benchChart({
    summary: r.summary,
    scenarios: r.settings.scenarios,
    order: ['engine', 'engine+sse', ...r.settings.strategies, 'no-op express', 'no-op node:http'],
    date: r.date,
    subtitle: `medians of ${r.settings.rounds} round(s), ${r.host.cores} cores, load average ${r.host.atStart[0]}→${r.host.atEnd[0]}; decisions = 201 + 409 sold_out; flash = 5,000 one-shot clients`,
  });
  const out = file.replace(/\.json$/, '.svg');
  await writeFile(out, svg);
  console.log(out);
}

if (process.argv[1] && import.meta.url === new URL(`file://${path.resolve(process.argv[1])}`).href) {
  if (!process.argv[2]) {
    process.stderr.write('usage: chart.js <results>.json\n');
    process.exit(2);
  }
  main(process.argv[2]).catch((err) => {
    console.error(err);
    process.exit(1);
  });
}
