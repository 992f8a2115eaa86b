/** `node --import ./load-log-register.js …` logs every resolved module URL (see load-log.ts). */
import { register } from 'node:module';

register('./load-log.js', import.meta.url);
