/** Every page of the console, in the menu's order. */
import type { ConsolePages } from '../render.js';
import { breachesPages } from './breaches.js';
import { consentsPages } from './consents.js';
import { dashboardPages } from './dashboard.js';
import { peoplePages } from './people.js';
import { registerPages } from './register.js';
import { reportPages } from './report.js';
import { requestsPages } from './requests.js';
import { sweepsPages } from './sweeps.js';

export const CONSOLE_PAGES: readonly ConsolePages[] = [
  dashboardPages,
  registerPages,
  requestsPages,
  breachesPages,
  peoplePages,
  sweepsPages,
  reportPages,
  consentsPages,
];
