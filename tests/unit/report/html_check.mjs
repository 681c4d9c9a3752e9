// html_check.mjs MODE PAGE.html SHOTDIR: loads a page of `memlens report
// --format html` from file:// in headless Chromium (playwright-core, from
// web/node_modules, driving /usr/bin/chromium) and checks it as a person
// would use it.  MODE known: html_prog.c's profile (alloc_peak holds 3 MiB
// at the peak, alloc_churn allocates 10 MiB); MODE large: any page, only
// that it loads without errors.  Prints "# ..." notes, and "ok" or
// "TESTFAIL: ..." (exit 1).  Screenshots go to SHOTDIR/MODE.png.
import { join } from 'node:path';
import { errors, fail, note, withPage } from './browser.mjs';

const [mode, page, shots] = process.argv.slice(2);
await withPage(page, async (p, loadMs) => {
	const scriptMs = await p.evaluate(() => document.body.dataset.ready);
	note(`loaded in ${loadMs} ms (the page's own script: ${scriptMs} ms)`);
	console.log(`load_ms ${loadMs}`);

	const settle = () => p.waitForTimeout(700); // d3's transitions (250 ms) and their delays
	await settle();
	const frames = await p.$$eval('#flame g.frame', (gs) => gs.length);
	if (!frames)
		fail('the flame graph has no frame');
	note(`${frames} flame graph frames drawn`);
	if (!(await p.$('#timeline canvas')) && !(await p.$('#timeline .note')))
		fail('no heap-over-time chart');

	if (mode === 'known') {
		// the recorder's RSS series is drawn beside the live heap
		const rssNote = await p.$eval('#t-rss-note', (e) => e.textContent);
		if (!/resident set size/.test(rssNote) || !(await p.$('#timeline canvas')))
			fail('no RSS line on the heap-over-time chart: ' + rssNote);
		// the widest frame of the two functions, and each one's tooltip
		const width = (name) => p.$eval(`#flame g.frame[name="${name}"] rect`, (r) =>
			r.getBBox().width).catch(() => 0);
		const tip = async (name) => {
			await p.hover(`#flame g.frame[name="${name}"]`);
			await p.waitForTimeout(300);
			return p.$eval('.d3-flame-graph-tip', (t) => t.textContent);
		};
		const top = async () => ((await width('alloc_peak')) >= (await width('alloc_churn')) ?
			'alloc_peak' : 'alloc_churn');

		let t = await tip('alloc_peak');
		note('peak tooltip: ' + t);
		if (!t.includes('3,145,728 bytes') || !t.includes('html_prog.c:'))
			fail('peak weight: alloc_peak\'s tooltip lacks "3,145,728 bytes" or its file:line: ' + t);
		if (await top() !== 'alloc_peak')
			fail('peak weight: the top frame is not alloc_peak');

		await p.selectOption('#f-weight', 'churn');
		await settle();
		t = await tip('alloc_churn');
		note('churn tooltip: ' + t);
		if (!t.includes('10,485,760 bytes'))
			fail('churn weight: alloc_churn\'s tooltip lacks "10,485,760 bytes": ' + t);
		t = await tip('alloc_peak');
		if (!t.includes('3,145,728 bytes'))
			fail('churn weight: alloc_peak\'s tooltip lacks "3,145,728 bytes": ' + t);
		if (await top() !== 'alloc_churn')
			fail('churn weight: the top frame did not change to alloc_churn');
		note('top frame: alloc_peak by peak bytes, alloc_churn by churn');

		await p.mouse.move(0, 0);
		await p.fill('#f-search', 'churn');
		await settle();
		const fill = (name) => p.$eval(`#flame g.frame[name="${name}"] rect`, (r) =>
			getComputedStyle(r).fill || r.getAttribute('fill'));
		const hi = await fill('alloc_churn'), lo = await fill('alloc_peak');
		note(`search "churn": alloc_churn filled ${hi}, alloc_peak ${lo}`);
		if (hi === lo || !/230, 0, 230|#e600e6/i.test(hi))
			fail(`search did not highlight alloc_churn only (${hi} vs ${lo})`);
		const details = await p.$eval('#f-details', (d) => d.textContent);
		if (!details.includes('1 frames match'))
			fail('search details: ' + details);

		// the table: alloc_peak first by peak bytes; its row opens on its stack
		const first = await p.$eval('#stacks tbody tr.row td.fn', (td) => td.textContent);
		if (first !== 'alloc_peak')
			fail('the peak table\'s first stack is ' + first);
		await p.click('#stacks tbody tr.row');
		const stack = await p.$eval('#stacks tbody tr.stack', (tr) => tr.hidden ? '' : tr.textContent);
		if (!/alloc_peak .*html_prog\.c:\d+/.test(stack) || !/main .*html_prog\.c:\d+/.test(stack))
			fail('the expanded stack lacks alloc_peak or main with file:line: ' + stack);
		await p.click('#t-tabs button[data-tab="churn"]');
		const firstChurn = await p.$eval('#stacks tbody tr.row td.fn', (td) => td.textContent);
		if (firstChurn !== 'alloc_churn')
			fail('the churn table\'s first stack is ' + firstChurn);
		await p.click('#stacks tbody tr.row');

		await p.check('#f-icicle');
		await settle();
		await p.fill('#f-search', 'alloc_');
		await settle();
		await p.hover('#flame g.frame[name="alloc_churn"]');
		await p.waitForTimeout(300);
	} else {
		await p.selectOption('#f-weight', 'churn');
		await settle();
		await p.fill('#t-search', 'f');
		await p.click('#t-next');
	}
	await p.screenshot({ path: join(shots, mode + '.png'), fullPage: true });
});
