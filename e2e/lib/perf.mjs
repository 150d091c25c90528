// Web performance as a new visitor meets it (issue 23): cold loads of a
// page in fresh browser contexts (empty cache), each measured from inside
// the page: JavaScript bytes transferred (PerformanceResourceTiming
// `transferSize`, which counts compressed bytes), first contentful paint and
// largest contentful paint (PerformanceObserver, buffered). Figures for the
// benchmark report; no test asserts them (these machines are shared and
// noisy).

/** Collects the page's paint and resource entries once it settled. */
function pageFigures() {
  return new Promise((resolve) => {
    let lcp = 0;
    new PerformanceObserver((list) => {
      for (const entry of list.getEntries()) lcp = Math.max(lcp, entry.startTime);
    }).observe({ type: 'largest-contentful-paint', buffered: true });
    // LCP is final once nothing larger paints; a short quiet wait is enough
    // on a page that is already idle.
    setTimeout(() => {
      const fcp = performance.getEntriesByName('first-contentful-paint')[0]?.startTime ?? null;
      const nav = performance.getEntriesByType('navigation')[0];
      const resources = performance.getEntriesByType('resource');
      const js = resources.filter((r) => r.initiatorType === 'script' || /\.m?js(\?|$)/.test(r.name));
      resolve({
        fcpMs: fcp,
        lcpMs: lcp || null,
        domContentLoadedMs: nav ? nav.domContentLoadedEventEnd : null,
        jsBytes: js.reduce((sum, r) => sum + (r.transferSize || 0), 0),
        jsFiles: js.length,
        jsDecodedBytes: js.reduce((sum, r) => sum + (r.decodedBodySize || 0), 0),
        allBytes: resources.reduce((sum, r) => sum + (r.transferSize || 0), 0) + (nav?.transferSize ?? 0),
      });
    }, 1500);
  });
}

const median = (values) => {
  const sorted = values.filter((v) => v !== null).sort((a, b) => a - b);
  if (sorted.length === 0) return null;
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};

/**
 * `runs` cold loads of `path` (a new context each: no cache, no cookies);
 * every run's figures and the medians.
 */
export async function coldLoads(browser, baseUrl, path = '/', runs = 5) {
  const samples = [];
  for (let i = 0; i < runs; i += 1) {
    const context = await browser.newContext({ baseURL: baseUrl, viewport: { width: 1280, height: 900 } });
    const page = await context.newPage();
    await page.goto(path, { waitUntil: 'networkidle' });
    samples.push(await page.evaluate(pageFigures));
    await context.close();
  }
  const pick = (key) => median(samples.map((s) => s[key]));
  return {
    path,
    runs,
    median: {
      jsBytes: pick('jsBytes'),
      jsDecodedBytes: pick('jsDecodedBytes'),
      fcpMs: pick('fcpMs'),
      lcpMs: pick('lcpMs'),
      domContentLoadedMs: pick('domContentLoadedMs'),
    },
    samples,
  };
}
