import { useEffect, useRef } from "preact/hooks";
import uPlot from "uplot";
import "uplot/dist/uPlot.min.css";

export interface BandSeries {
  label: string;
  color: string;
  avg: (number | null)[];
  min: (number | null)[];
  max: (number | null)[];
}

/**
 * One uPlot chart: for each series its average as a line and the min–max of each bucket as a shaded
 * band. `times` are Unix seconds. The width follows the container (narrow screens included).
 */
export function BandChart({
  title,
  times,
  series,
  unit = "%",
}: {
  title: string;
  times: number[];
  series: BandSeries[];
  unit?: string;
}) {
  const box = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const el = box.current;
    if (!el) return;
    const data: uPlot.AlignedData = [times];
    const uSeries: uPlot.Series[] = [{}];
    const bands: uPlot.Band[] = [];
    for (const s of series) {
      const base = data.length;
      data.push(s.avg, s.max, s.min);
      uSeries.push(
        {
          label: `${s.label} avg`,
          stroke: s.color,
          width: 2,
          value: (_u, v) => (v == null ? "—" : `${v.toFixed(1)}${unit}`),
        },
        { label: `${s.label} max`, stroke: "transparent", points: { show: false } },
        { label: `${s.label} min`, stroke: "transparent", points: { show: false } },
      );
      bands.push({ series: [base + 1, base + 2], fill: `${s.color}33` });
    }
    const opts: uPlot.Options = {
      title,
      width: Math.max(el.clientWidth, 240),
      height: 220,
      series: uSeries,
      bands,
      scales: unit === "%" ? { y: { range: [0, 100] } } : {},
      axes: [{}, { values: (_u, ticks) => ticks.map((t) => `${t}${unit}`) }],
    };
    const plot = new uPlot(opts, data, el);
    const resize = new ResizeObserver(() =>
      plot.setSize({ width: Math.max(el.clientWidth, 240), height: 220 }),
    );
    resize.observe(el);
    return () => {
      resize.disconnect();
      plot.destroy();
    };
  }, [title, times, series, unit]);
  return <div class="chart" ref={box} role="img" aria-label={`${title}: average with min–max band`} />;
}
