import path from 'node:path';
import { REQUIRED_TEMPLATES, checkTemplates, defaultTemplatesDir, formatProblem } from './templates';

/**
 * `npm run templates:check [-- <dir>]`: parses every template, prints `file:line: message` per problem and
 * exits 1, or prints how many templates were checked and exits 0.
 */
async function main(): Promise<number> {
  const arg = process.argv[2];
  const dir = arg ?? (path.relative(process.cwd(), defaultTemplatesDir()) || '.');
  const problems = await checkTemplates(dir, { required: arg ? [] : REQUIRED_TEMPLATES });
  if (problems.length > 0) {
    for (const problem of problems) console.error(formatProblem(problem));
    console.error(`${problems.length} problem${problems.length === 1 ? '' : 's'} in ${dir}`);
    return 1;
  }
  const { readdir } = await import('node:fs/promises');
  let files = 0;
  for (const stage of await readdir(dir, { withFileTypes: true })) {
    if (stage.isDirectory()) files += (await readdir(path.join(dir, stage.name))).filter((f) => f.endsWith('.liquid')).length;
  }
  console.log(`templates OK: ${files} files checked in ${dir}`);
  return 0;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(err instanceof Error ? err.message : err);
    process.exit(2);
  },
);
