/**
 * The project config, `kiln.config.yaml` in the directory `kiln` runs in: settings
 * that belong to a checkout rather than to one pipeline. Today its `cache:` section:
 *
 *   cache:
 *     dir: .kiln/cache                   # the local cache
 *     remote: http://cache.internal:8080/kiln   # a Bazel HTTP remote cache
 *     readOnly: false                    # true: read the remote cache, never write it
 *     timeout: 10                        # seconds without progress before the remote is given up
 *
 * Command-line flags and environment variables override it. Mistakes are reported at
 * their line and column, before any work.
 */
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { z } from 'zod';
import { dotted, zodDiagnostics } from '../pipeline/problems.ts';
import { parseYaml, toJson } from '../pipeline/yaml-tree.ts';
import { KilnError } from '../support/diagnostics.ts';

import { PROJECT_CONFIG } from './project-config-name.ts';

const cacheSection = z
  .object({
    dir: z.string().min(1).optional(),
    remote: z.string().min(1).optional(),
    readOnly: z.boolean().optional(),
    timeout: z.number().positive().optional(),
  })
  .strict();

const projectConfig = z.object({ cache: cacheSection.optional() }).strict();

export type ProjectConfig = z.infer<typeof projectConfig> & { readonly file?: string };

/** The config of the project in `dir`, or an empty one when it has none. */
export function loadProjectConfig(dir = process.cwd()): ProjectConfig {
  const file = resolve(dir, PROJECT_CONFIG);
  if (!existsSync(file)) return {};
  const text = readFileSync(file, 'utf8');
  const parsed = parseYaml(text, file);
  if (!parsed.tree) throw new KilnError(parsed.diagnostics, { input: true });
  const r = projectConfig.safeParse(toJson(parsed.tree) ?? {});
  if (!r.success) {
    const describe = (path: readonly (string | number)[]): string =>
      `${PROJECT_CONFIG}: ${path.length ? dotted(path) : 'the file'}`;
    throw new KilnError(zodDiagnostics(r.error, parsed.tree, [], describe, ['cache', 'dir', 'remote', 'readOnly', 'timeout']), {
      input: true,
    });
  }
  return { ...r.data, file };
}
