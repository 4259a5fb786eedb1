// Reading the gateway's Prometheus text (`/metrics`): histograms summed per
// instance, and quantiles estimated from their buckets the way
// Prometheus' histogram_quantile does (linear inside a bucket).

const LINE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)/;
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;

/** Parses the exposition text into samples `{name, labels, value}`. */
export function parse(text) {
  const out = [];
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const m = LINE.exec(line);
    if (!m) continue;
    const labels = {};
    if (m[2]) {
      for (const l of m[2].matchAll(LABEL)) labels[l[1]] = l[2].replace(/\\(.)/g, '$1');
    }
    out.push({ name: m[1], labels, value: Number(m[3]) });
  }
  return out;
}

/**
 * The histogram `name` summed over every label but `instance`:
 * `Map(instance → {buckets: [[le, count]], count, sum})`.
 */
export function histogramByInstance(samples, name) {
  const by = new Map();
  const get = (inst) => {
    if (!by.has(inst)) by.set(inst, { buckets: new Map(), count: 0, sum: 0 });
    return by.get(inst);
  };
  for (const s of samples) {
    const inst = s.labels.instance;
    if (inst === undefined) continue;
    if (s.name === `${name}_bucket`) {
      const le = s.labels.le === '+Inf' ? Infinity : Number(s.labels.le);
      const h = get(inst);
      h.buckets.set(le, (h.buckets.get(le) || 0) + s.value);
    } else if (s.name === `${name}_count`) {
      get(inst).count += s.value;
    } else if (s.name === `${name}_sum`) {
      get(inst).sum += s.value;
    }
  }
  for (const h of by.values()) h.buckets = [...h.buckets.entries()].sort((a, b) => a[0] - b[0]);
  return by;
}

/** The q-quantile (0..1) of a histogram, in the histogram's unit; null when empty. */
export function quantile(hist, q) {
  if (!hist || !hist.count) return null;
  const buckets = hist.buckets;
  const total = buckets.length ? buckets[buckets.length - 1][1] : 0;
  if (!total) return null;
  const rank = q * total;
  let prevLe = 0;
  let prevCount = 0;
  for (const [le, count] of buckets) {
    if (count >= rank) {
      if (le === Infinity) return prevLe;
      const inBucket = count - prevCount;
      if (inBucket <= 0) return le;
      return prevLe + (le - prevLe) * ((rank - prevCount) / inBucket);
    }
    prevLe = le;
    prevCount = count;
  }
  return prevLe;
}

/**
 * Per instance: requests, p50/p95 latency and TTFT in milliseconds, from
 * the text of `/metrics`.
 */
export function instanceStats(text) {
  const samples = parse(text);
  const latency = histogramByInstance(samples, 'switchboard_request_duration_seconds');
  const ttft = histogramByInstance(samples, 'switchboard_time_to_first_token_seconds');
  const names = new Set([...latency.keys(), ...ttft.keys()]);
  const out = new Map();
  const msOf = (v) => (v === null ? null : v * 1000);
  for (const n of names) {
    const l = latency.get(n);
    const t = ttft.get(n);
    out.set(n, {
      requests: l ? l.count : 0,
      p50: msOf(quantile(l, 0.5)),
      p95: msOf(quantile(l, 0.95)),
      ttft50: msOf(quantile(t, 0.5)),
      ttft95: msOf(quantile(t, 0.95)),
    });
  }
  return out;
}
