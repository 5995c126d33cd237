// The entry point of the live page `/tutor/` (see live.js).
import { start } from './live.js';

start(document);
