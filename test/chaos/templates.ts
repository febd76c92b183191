import { cp, readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';

/** What every chaos subject and SMS body starts with: the stage and step that sent it. */
const TAG = '[chaos {{ campaign.stage }}/{{ campaign.step }}] ';

/** Reads the tag back: `[chaos onboarding/tip-1] ...` gives `onboarding/tip-1`. */
export function stepTag(text: string): string | undefined {
  return /\[chaos ([a-z]+\/[a-z0-9-]+)\]/.exec(text)?.[1];
}

/**
 * A copy of the project's templates/ (the worker reads it through TEMPLATES_DIR) whose subjects and SMS bodies
 * start with the stage and step, so what the fakes receive says which step of which campaign sent it.
 */
export async function writeChaosTemplates(projectRoot: string, into: string): Promise<string> {
  const target = path.join(into, 'templates');
  await cp(path.join(projectRoot, 'templates'), target, { recursive: true });
  for (const stage of await readdir(target, { withFileTypes: true })) {
    if (!stage.isDirectory()) continue;
    const dir = path.join(target, stage.name);
    for (const file of await readdir(dir)) {
      if (!file.endsWith('.subject.liquid') && !file.endsWith('.sms.liquid')) continue;
      const full = path.join(dir, file);
      await writeFile(full, TAG + (await readFile(full, 'utf8')));
    }
  }
  return target;
}
