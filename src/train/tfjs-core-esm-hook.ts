/**
 * A module resolve hook (node:module `register`) that lets plain Node load tfjs-core's ES module
 * sources in `dist/`. They are written for bundlers: relative imports without an extension
 * ('./gradients/Add_grad') in a package without `"type": "module"`, so Node refuses them as they
 * ship. Only two kinds of resolution are touched: relative imports made from a module inside
 * that `dist/` folder (they get '.js' and the 'module' format), and the entry
 * `dist/register_all_gradients.js` (format 'module'). Every other import passes through as is.
 * Registered by `initTraining` in ./tfjs.ts; it runs on Node's hooks thread, so it imports nothing.
 */
import type { InitializeHook, ResolveHook } from 'node:module';

export interface HookData {
  /** `file:` URL of tfjs-core's `dist/` folder, ending in '/'. */
  distUrl: string;
}

let distUrl = '';
let entryUrl = '';

export const initialize: InitializeHook<HookData> = (data) => {
  distUrl = data.distUrl;
  entryUrl = `${distUrl}register_all_gradients.js`;
};

export const resolve: ResolveHook = async (specifier, context, nextResolve) => {
  const fromDist = distUrl !== '' && context.parentURL?.startsWith(distUrl) === true;
  if (fromDist && (specifier.startsWith('./') || specifier.startsWith('../'))) {
    const resolved = await nextResolve(specifier.endsWith('.js') ? specifier : `${specifier}.js`, context);
    return { ...resolved, format: 'module' };
  }
  const resolved = await nextResolve(specifier, context);
  return resolved.url === entryUrl ? { ...resolved, format: 'module' } : resolved;
};
