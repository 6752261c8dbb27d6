/**
 * Small SVG charts, no library: a column chart with an overlaid series (requests and errors per
 * hour) and horizontal bars (by backend, by bucket). Each chart carries a text alternative, and
 * the numbers it draws are also in a table or list beside it for screen readers.
 */

export interface Column {
  label: string;
  value: number;
  /** Drawn over the column, in the danger colour (e.g. the 5xx share). */
  overlay?: number;
}

const nice = (max: number) => {
  if (max <= 0) return 1;
  const step = 10 ** Math.floor(Math.log10(max));
  return Math.ceil(max / step) * step;
};

export function ColumnChart({ data, label, height = 200 }: { data: Column[]; label: string; height?: number }) {
  const max = nice(Math.max(0, ...data.map((d) => d.value)));
  const width = 1000;
  const pad = { top: 8, bottom: 22, left: 48 };
  const inner = height - pad.top - pad.bottom;
  const slot = (width - pad.left) / Math.max(1, data.length);
  const y = (v: number) => pad.top + inner - (v / max) * inner;
  return (
    <svg role="img" aria-label={label} viewBox={`0 0 ${width} ${height}`} className="h-auto w-full" data-testid="column-chart">
      {[0, 0.5, 1].map((f) => (
        <g key={f}>
          <line x1={pad.left} x2={width} y1={y(max * f)} y2={y(max * f)} className="stroke-line" strokeWidth={1} />
          <text x={pad.left - 4} y={y(max * f) + 4} textAnchor="end" className="fill-muted" fontSize={12}>
            {Math.round(max * f).toLocaleString()}
          </text>
        </g>
      ))}
      {data.map((d, i) => {
        const x = pad.left + i * slot + slot * 0.15;
        const w = slot * 0.7;
        return (
          <g key={i}>
            <title>{`${d.label}: ${d.value.toLocaleString()}${d.overlay ? ` (${d.overlay.toLocaleString()})` : ''}`}</title>
            <rect x={x} y={y(d.value)} width={w} height={Math.max(0, pad.top + inner - y(d.value))} className="fill-accent" rx={1} />
            {!!d.overlay && <rect x={x} y={y(d.overlay)} width={w} height={Math.max(0, pad.top + inner - y(d.overlay))} className="fill-danger" rx={1} />}
            {i % Math.ceil(data.length / 8) === 0 && (
              <text x={x + w / 2} y={height - 6} textAnchor="middle" className="fill-muted" fontSize={12}>
                {d.label}
              </text>
            )}
          </g>
        );
      })}
    </svg>
  );
}

export function BarList({
  data,
  format = (n) => n.toLocaleString(),
  label,
}: {
  data: { label: string; value: number; note?: string }[];
  format?: (n: number) => string;
  label: string;
}) {
  const max = Math.max(1, ...data.map((d) => d.value));
  return (
    <ul aria-label={label} className="flex flex-col gap-2">
      {data.map((d) => (
        <li key={d.label} className="flex flex-col gap-0.5 text-sm" data-bar={d.label} data-value={d.value}>
          <span className="flex justify-between gap-2">
            <span className="truncate">
              {d.label}
              {d.note && <span className="ml-2 text-xs text-muted">{d.note}</span>}
            </span>
            <span className="tabular-nums text-muted">{format(d.value)}</span>
          </span>
          <svg aria-hidden viewBox="0 0 100 4" preserveAspectRatio="none" className="h-1.5 w-full">
            <rect width={100} height={4} className="fill-line" rx={1} />
            <rect width={(d.value / max) * 100} height={4} className="fill-accent" rx={1} />
          </svg>
        </li>
      ))}
    </ul>
  );
}

/** One square per probe, oldest on the left: green up, red down, its latency in the tooltip. */
export function ProbeStrip({ probes, label }: { probes: { at: string; healthy: boolean; latency_ms: number; error?: string }[]; label: string }) {
  const size = 12;
  return (
    <svg role="img" aria-label={label} width={probes.length * (size + 2)} height={size} data-testid="probe-strip">
      {probes.map((p, i) => (
        <rect key={i} x={i * (size + 2)} width={size} height={size} rx={2} className={p.healthy ? 'fill-ok' : 'fill-danger'} data-healthy={p.healthy}>
          <title>{`${new Date(p.at).toLocaleString()} · ${p.healthy ? `${p.latency_ms} ms` : (p.error ?? '')}`}</title>
        </rect>
      ))}
    </svg>
  );
}

/** A line of values (e.g. probe latency), scaled to its own maximum; gaps where a value is missing. */
export function Sparkline({ values, label, width = 280, height = 36 }: { values: (number | undefined)[]; label: string; width?: number; height?: number }) {
  const max = Math.max(1, ...values.filter((v): v is number => v !== undefined));
  const step = values.length > 1 ? width / (values.length - 1) : 0;
  const segments: string[] = [];
  let current: string[] = [];
  values.forEach((v, i) => {
    if (v === undefined) {
      if (current.length) segments.push(current.join(' '));
      current = [];
      return;
    }
    current.push(`${(i * step).toFixed(1)},${(height - 2 - (v / max) * (height - 4)).toFixed(1)}`);
  });
  if (current.length) segments.push(current.join(' '));
  return (
    <svg role="img" aria-label={label} width={width} height={height} viewBox={`0 0 ${width} ${height}`} data-testid="sparkline">
      {segments.map((points, i) =>
        points.includes(' ') ? (
          <polyline key={i} points={points} fill="none" className="stroke-accent" strokeWidth={1.5} />
        ) : (
          <circle key={i} cx={points.split(',')[0]} cy={points.split(',')[1]} r={1.5} className="fill-accent" />
        ),
      )}
    </svg>
  );
}
