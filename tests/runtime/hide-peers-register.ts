/** `node --import ./hide-peers-register.js …` runs a script as if the optional peers were not installed. */
import { register } from 'node:module';

register('./hide-peers.js', import.meta.url);
