/**
 * Module resolution hooks that append every resolved module URL to the file named by
 * SSD_EDGE_LOAD_LOG, so a test can see what a command imports. Registered by load-log-register.ts.
 */
import { appendFileSync } from 'node:fs';

type Resolve = (specifier: string, context: object) => Promise<{ url: string }>;

export async function resolve(specifier: string, context: object, next: Resolve): Promise<{ url: string }> {
  const result = await next(specifier, context);
  const log = process.env.SSD_EDGE_LOAD_LOG;
  if (log) appendFileSync(log, `${result.url}\n`);
  return result;
}
