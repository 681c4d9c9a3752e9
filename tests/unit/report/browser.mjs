// browser.mjs: what the html pages' checks share (report/html_check.mjs,
// diff/html_check.mjs): headless Chromium (playwright-core from
// web/node_modules, driving /usr/bin/chromium or $CHROMIUM), a page loaded
// from file:// with every console error, page error and network request
// collected as an error, and the "# note" / "ok" / "TESTFAIL: ..." output.
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

const require = createRequire(join(process.env.ROOT, 'web/package.json'));
const { chromium } = require('playwright-core');

export const errors = [];
export function fail(msg) {
	console.log('TESTFAIL: ' + msg);
	process.exitCode = 1;
	throw new Error(msg);
}
export const note = (m) => console.log('# ' + m);

// Loads page (a file) and, once it is ready and loaded without errors, runs
// check(p, loadMs); then "ok" if nothing failed.  Exit status 1 on failure.
export async function withPage(page, check) {
	const browser = await chromium.launch({
		executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
		args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'],
	});
	try {
		const ctx = await browser.newContext({ viewport: { width: 1280, height: 900 } });
		const p = await ctx.newPage();
		p.on('console', (m) => { if (m.type() === 'error') errors.push('console: ' + m.text()); });
		p.on('pageerror', (e) => errors.push('page error: ' + e.message));
		// offline: anything but the file itself is an error
		await p.route(/^(?!file:)/, (r) => { errors.push('network request: ' + r.request().url()); r.abort(); });
		const t0 = Date.now();
		await p.goto(pathToFileURL(page).href, { waitUntil: 'load', timeout: 60000 });
		await p.waitForSelector('body[data-ready]', { state: 'attached', timeout: 60000 })
			.catch((e) => fail('the page never got ready: ' + (errors.join('; ') || e.message)));
		const loadMs = Date.now() - t0;
		if (errors.length)
			fail('errors while loading: ' + errors.join('; '));
		await check(p, loadMs);
		if (errors.length)
			fail('errors: ' + errors.join('; '));
		console.log('ok');
	} catch (e) {
		if (!process.exitCode) {
			console.log('TESTFAIL: ' + e.message);
			process.exitCode = 1;
		}
	} finally {
		await browser.close();
	}
}
