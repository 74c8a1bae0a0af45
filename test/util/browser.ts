// Debian's Chromium, headless and offline: no background networking or component updates, so a
// page that loads anything from outside fails instead of fetching it.
import { Browser, chromium } from 'playwright-core';

/** Launches /usr/bin/chromium headless and offline, with `extraArgs` after the common flags. */
export function launchOfflineChromium(extraArgs: string[] = []): Promise<Browser> {
  return chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-background-networking',
      '--disable-component-update',
      '--no-first-run',
      ...extraArgs,
    ],
  });
}
