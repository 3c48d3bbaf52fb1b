// First contentful paint of the web page from a running server, over 7 fresh
// browser contexts: node tests/js/first-paint.mjs http://127.0.0.1:8080/
// (bench/first_paint.sh starts a server on the demo corpus and runs it).
import { chromium } from 'playwright-core';
const url = process.argv[2];
const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--disable-gpu','--no-first-run','--disable-background-networking','--disable-component-update','--disable-sync'] });
const vals = [];
for (let i = 0; i < 7; i++) {
  const ctx = await browser.newContext();
  const page = await ctx.newPage();
  await page.goto(url, { waitUntil: 'load' });
  await page.waitForTimeout(100);
  const fcp = await page.evaluate(() => performance.getEntriesByName('first-contentful-paint')[0]?.startTime);
  vals.push(Math.round(fcp));
  await ctx.close();
}
await browser.close();
vals.sort((a, b) => a - b);
console.log(`first contentful paint over ${vals.length} loads: median ${vals[3]} ms, all ${vals.join(', ')}`);
