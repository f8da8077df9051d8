// Prometheus text exposition (format 0.0.4) of a node's numbers, written by hand: a handful of
// counters and gauges do not need a client library.

export interface Sample {
  name: string;
  help: string;
  type: 'counter' | 'gauge';
  /** One value, or values by label set. */
  values: number | Array<{ labels: Record<string, string>; value: number }>;
}

function labelText(labels: Record<string, string>): string {
  const parts = Object.entries(labels).map(([k, v]) => `${k}="${v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`);
  return parts.length ? `{${parts.join(',')}}` : '';
}

export function renderMetrics(samples: Sample[]): string {
  const lines: string[] = [];
  for (const s of samples) {
    lines.push(`# HELP ${s.name} ${s.help}`, `# TYPE ${s.name} ${s.type}`);
    if (typeof s.values === 'number') lines.push(`${s.name} ${s.values}`);
    else for (const v of s.values) lines.push(`${s.name}${labelText(v.labels)} ${v.value}`);
  }
  return lines.join('\n') + '\n';
}
