import { readFile } from 'node:fs/promises';
import path from 'node:path';

/** Chart.js's browser (UMD) build, served by the API from the installed package: nothing to build or copy by hand. */
export interface ChartJsAsset {
  body: Buffer;
  version: string;
  /** Strong validator for conditional requests. */
  etag: string;
}

/**
 * chart.js 4 does not export its dist files, so the UMD build is found next to the package's CommonJS entry
 * (dist/chart.cjs); the minified UMD build is the one meant for browsers.
 */
export function chartJsDistDir(): string {
  return path.dirname(require.resolve('chart.js'));
}

export async function loadChartJsAsset(): Promise<ChartJsAsset> {
  const dir = chartJsDistDir();
  const [body, manifest] = await Promise.all([
    readFile(path.join(dir, 'chart.umd.min.js')),
    readFile(path.join(dir, '..', 'package.json'), 'utf8'),
  ]);
  const version = (JSON.parse(manifest) as { version: string }).version;
  return { body, version, etag: `"chart.js-${version}"` };
}
