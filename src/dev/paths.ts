import path from 'node:path';

/** The repository root, whether running from src/ through tsx or from dist/. */
export const projectRoot = path.resolve(__dirname, __dirname.includes(`${path.sep}dist${path.sep}`) ? '../../..' : '../..');

/** Ignored folder holding what the project provisions for itself (Temporal CLI build, test-server classpath). */
export const toolsDir = path.join(projectRoot, '.temporal');
