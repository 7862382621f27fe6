// The score distribution as an SVG histogram.

import { formatNumber, svg } from "./dom.js";

const WIDTH = 560;
const HEIGHT = 220;
const MARGIN = { top: 12, right: 12, bottom: 36, left: 48 };

/**
 * Count `values` into `binCount` equal-width bins over [low, high]. A value equal
 * to `high` goes into the last bin, the usual closed upper edge of a histogram.
 */
export function binValues(values, binCount, low, high) {
  const width = (high - low) / binCount || 1;
  const bins = Array.from({ length: binCount }, (_, index) => ({
    low: low + index * width,
    high: low + (index + 1) * width,
    count: 0,
  }));
  for (const value of values) {
    const index = Math.min(binCount - 1, Math.max(0, Math.floor((value - low) / width)));
    bins[index].count += 1;
  }
  return bins;
}

/** Draw `bins` ({low, high, count}) as an SVG bar chart labelled with `label`. */
export function histogram(bins, label) {
  const plotWidth = WIDTH - MARGIN.left - MARGIN.right;
  const plotHeight = HEIGHT - MARGIN.top - MARGIN.bottom;
  const maxCount = Math.max(1, ...bins.map((bin) => bin.count));
  const barWidth = plotWidth / bins.length;
  const total = bins.reduce((sum, bin) => sum + bin.count, 0);

  const bars = bins.map((bin, index) => {
    const barHeight = (bin.count / maxCount) * plotHeight;
    return svg(
      "rect",
      {
        class: "bar",
        x: MARGIN.left + index * barWidth + 1,
        y: MARGIN.top + plotHeight - barHeight,
        width: Math.max(1, barWidth - 2),
        height: barHeight,
        "data-count": bin.count,
      },
      svg("title", {}, `${formatNumber(bin.low)}–${formatNumber(bin.high)}: ${bin.count} rows`),
    );
  });

  const baseline = MARGIN.top + plotHeight;
  const first = bins[0]?.low ?? 0;
  const last = bins.at(-1)?.high ?? 1;
  const axisText = (x, y, text, anchor) =>
    svg("text", { x, y, "text-anchor": anchor, class: "axis" }, text);

  return svg(
    "svg",
    {
      viewBox: `0 0 ${WIDTH} ${HEIGHT}`,
      role: "img",
      class: "histogram",
      "data-testid": "histogram",
      "data-total": total,
      "aria-label": `Histogram of ${label} over ${total} rows`,
    },
    svg("line", { x1: MARGIN.left, x2: WIDTH - MARGIN.right, y1: baseline, y2: baseline, class: "axis-line" }),
    bars,
    axisText(MARGIN.left, baseline + 16, formatNumber(first), "start"),
    axisText(WIDTH - MARGIN.right, baseline + 16, formatNumber(last), "end"),
    axisText(MARGIN.left + plotWidth / 2, baseline + 30, label, "middle"),
    axisText(MARGIN.left - 6, MARGIN.top + 10, formatNumber(maxCount), "end"),
    axisText(MARGIN.left - 6, baseline, "0", "end"),
  );
}
