/** Every page of the console, in the menu's order. */
import type { ConsolePages } from '../render.js';
import { dashboardPages } from './dashboard.js';

export const CONSOLE_PAGES: readonly ConsolePages[] = [dashboardPages];
