// report.js: the page of `memlens report --format html`.  It reads the
// profile's figures from the JSON element html.c writes (#memlens-data,
// read by common.js) and draws them with d3-flame-graph (the flame graph)
// and uPlot (the heap over time); the summary and the tables are plain DOM.  The JSON's layout is
// html.c's: flame trees as [frame, value, second, children | merged count],
// stacks as [site, figures...] with their frames in the "sites" tree.
(function () {
	'use strict';
	const M = window.memlens, D = M.D;
	if (D.format !== 'memlens-html')
		return;
	const { $, num, human, bytes, dur, pct, esc, el, F, fname } = M;
	$('report-page').hidden = false;
	const atExit = D.reason === 'exit';
	const liveWord = atExit ? 'Leaked at exit' : 'Live at ' + D.reason;

	// The weights: what a box weighs, and the second figure its tooltip gives.
	const WEIGHTS = [
		{ key: 'peak', label: 'Bytes live at the peak', unit: 'bytes', second: 'blocks' },
		{ key: 'churn', label: 'Allocated bytes (churn)', unit: 'bytes', second: 'allocations' },
		{ key: 'allocs', label: 'Allocations', unit: 'allocations', second: 'bytes' },
		{ key: 'temp', label: 'Temporary allocations', unit: 'allocations', second: 'bytes' },
		{ key: 'leaks', label: liveWord + ' (bytes)', unit: 'bytes', second: 'blocks' },
	];

	// ---- summary -------------------------------------------------------
	function summary() {
		const t = D.totals;
		$('s-prog').textContent = D.cmdline || D.exe || '?';
		const facts = [
			['Program', (D.cmdline || D.exe || '?') + '  (pid ' + D.pid + ')'],
			['Duration', dur(D.duration_ns) + ', profile written at ' + D.reason],
			['Allocations', num(t.allocs) + ' (' + bytes(t.bytes_total) + ' in all), ' + num(t.frees) + ' frees'],
			['Peak heap', D.peak ? bytes(D.peak.live_bytes) + ' in ' + num(D.peak.live_blocks) + ' blocks, at ' +
				dur(D.peak.t_ns) + ' (after ' + human(D.peak.total) + ' allocated)' : 'unknown'],
			[liveWord, bytes(t.leaked_bytes) + ' in ' + num(t.leaked_blocks) + ' blocks'],
			['Temporaries', num(t.temp_allocs) + ' allocations freed soon after (' + pct(t.temp_allocs, t.allocs) +
				' of all), ' + bytes(t.temp_bytes)],
			['Recording', D.sample_bytes ? 'sampled (MEMLENS_SAMPLE): one sample per ' + num(D.sample_bytes) +
				' bytes on average, ' + num(t.samples) + ' samples; the figures are estimates' :
				'exact: every allocation recorded'],
			['Stacks', num(D.nstacks) + ' distinct'],
			['Profile file', D.file],
		];
		const dl = $('s-facts');
		for (const [k, v] of facts)
			dl.append(el('dt', null, k), el('dd', null, v));
	}

	// ---- flame graph ---------------------------------------------------
	const toTree = (a) => M.toTree(a, 2, (n, x) => { n.value = x[1]; n.s = x[2]; });
	const fmtw = (w, v) => (w.unit === 'bytes' ? bytes(v) : num(v) + ' ' + w.unit);
	const fmt2 = (w, v) => (w.second === 'bytes' ? bytes(v) : num(v) + ' ' + w.second);
	function tipHtml(d, weight) {
		const n = d.data, root = d.ancestors().pop().data, up = d.parent ? d.parent.data : null;
		let h = '<b>' + esc(n.name) + '</b>';
		if (n.f >= 0)
			h += '<br>' + M.fplace(n.f);
		else if (n.merged)
			h += '<br>' + n.merged + ' callees, each under ' + (100 / D.small) + '% of the total';
		h += '<br>' + esc(weight.label) + ': ' + esc(fmtw(weight, n.value)) + ', ' + esc(fmt2(weight, n.s));
		h += '<br>' + pct(n.value, root.value) + ' of the total' + (up ? ', ' + pct(n.value, up.value) +
			' of its caller' : '');
		return h;
	}
	function flame() {
		$('f-small').textContent = (100 / D.small) + '%';
		M.flameView({
			p: 'f', box: 'flame', weights: WEIGHTS, tip: tipHtml, fmt: fmtw,
			tree: (w) => toTree(D.flame[w.key]),
			label: (d, w) => d.data.name + ': ' + fmtw(w, d.data.value) + ' (' +
				pct(d.data.value, d.ancestors().pop().data.value) + ')',
		});
	}

	// ---- heap over time ------------------------------------------------
	function timeline() {
		const T = D.timeline, box = $('timeline');
		if (!T || !T.t_ns.length) {
			box.append(el('p', { class: 'note' }, 'This profile has no timeline.'));
			return;
		}
		if (T.points > T.t_ns.length)
			$('t-rss-note').textContent = 'The ' + num(T.points) + ' points of the timeline are shown as ' +
				num(T.t_ns.length) + ', the highest of each stretch.';
		const xs = T.t_ns.map((t) => t / 1e9), live = T.live_bytes.slice();
		const rss = Array.isArray(T.rss) && T.rss.length === xs.length ? T.rss.slice() : null;
		const peak = xs.map(() => null);
		if (D.peak) {
			// the peak as a point of its own, in time order
			const t = D.peak.t_ns / 1e9;
			let i = 0;
			while (i < xs.length && xs[i] < t)
				i++;
			if (i < xs.length && xs[i] === t) {
				live[i] = Math.max(live[i], D.peak.live_bytes);
			} else {
				xs.splice(i, 0, t);
				live.splice(i, 0, D.peak.live_bytes);
				peak.splice(i, 0, null);
				if (rss)
					rss.splice(i, 0, null);
			}
			peak[i] = D.peak.live_bytes;
		}
		const series = [{ label: 'time', value: (u, v) => (v == null ? '' : v.toFixed(3) + ' s') },
			{ label: 'live heap', stroke: '#c0392b', fill: 'rgba(192,57,43,0.12)', width: 1.5,
				value: (u, v) => (v == null ? '' : human(v)) }];
		const data = [xs, live];
		if (rss) {
			series.push({ label: 'RSS', stroke: '#2c6fbb', width: 1.5, spanGaps: true,
				value: (u, v) => (v == null ? '' : human(v)) });
			data.push(rss);
			$('t-rss-note').textContent += ' The blue line is the resident set size (RSS) of the process.';
		}
		series.push({ label: 'peak', stroke: '#000', width: 0, points: { show: true, size: 9, fill: '#ffd400' },
			value: (u, v) => (v == null ? '' : human(v)) });
		data.push(peak);
		const opts = {
			width: Math.max(400, box.clientWidth || 1000), height: 260, series: series,
			scales: { x: { time: false } },
			axes: [{ label: 'seconds since start', values: (u, v) => v.map((x) => x + ' s') },
				{ size: 80, values: (u, v) => v.map(human) }],
		};
		new uPlot(opts, data, box);
	}

	// ---- tables --------------------------------------------------------
	const SF = {};
	D.stack_fields.forEach((k, i) => (SF[k] = i));
	const framesOf = M.framesOf;
	const COLS = [
		{ key: 'rank', label: '#' },
		{ key: 'fn', label: 'Allocated in' },
		{ key: 'where', label: 'At' },
		{ key: 'peak_bytes', label: 'Peak bytes', fmt: human },
		{ key: 'peak_blocks', label: 'Peak blocks', fmt: num },
		{ key: 'bytes_total', label: 'Allocated', fmt: human },
		{ key: 'allocs', label: 'Allocations', fmt: num },
		{ key: 'temp_allocs', label: 'Temporary', fmt: num },
		{ key: 'live_bytes', label: atExit ? 'Leaked' : 'Live', fmt: human },
		{ key: 'live_blocks', label: atExit ? 'Leaked blocks' : 'Live blocks', fmt: num },
	];
	const TAB_FIELD = { peak: 'peak_bytes', churn: 'bytes_total', allocs: 'allocs', temp: 'temp_allocs',
		leaks: 'live_bytes' };
	const PAGE = 50;
	const tbl = { tab: 'peak', sort: 'peak_bytes', desc: true, page: 0, rows: [], open: new Set() };
	function rowsFor() {
		const k = SF[TAB_FIELD[tbl.tab]];
		let rows = D.stacks.filter((s) => s[k] > 0).sort((a, b) => b[k] - a[k]).slice(0, D.top);
		rows = rows.map((s, i) => ({ s: s, rank: i + 1 }));
		const term = $('t-search').value.trim().toLowerCase();
		if (term)
			rows = rows.filter((r) => framesOf(r.s[0]).some((f) => fname(f).toLowerCase().includes(term)));
		const key = tbl.sort, dir = tbl.desc ? -1 : 1;
		const val = (r) => (key === 'rank' ? r.rank : key === 'fn' ? leafName(r) : key === 'where' ?
			leafWhere(r) : r.s[SF[key]]);
		rows.sort((a, b) => {
			const x = val(a), y = val(b);
			return (x < y ? -1 : x > y ? 1 : a.rank - b.rank) * dir;
		});
		tbl.rows = rows;
	}
	const leafName = (r) => M.leafName(r.s[0]);
	const leafWhere = (r) => M.leafWhere(r.s[0]);
	function drawTable() {
		const head = $('stacks').tHead, body = $('stacks').tBodies[0];
		head.textContent = '';
		body.textContent = '';
		const tr = el('tr');
		for (const c of COLS) {
			const th = el('th', { 'data-key': c.key, title: 'sort by ' + c.label }, c.label +
				(tbl.sort === c.key ? (tbl.desc ? ' ▼' : ' ▲') : ''));
			if (tbl.sort === c.key || TAB_FIELD[tbl.tab] === c.key)
				th.classList.add('sorted');
			th.addEventListener('click', () => {
				if (tbl.sort === c.key)
					tbl.desc = !tbl.desc;
				else {
					tbl.sort = c.key;
					tbl.desc = !['rank', 'fn', 'where'].includes(c.key);
				}
				tbl.page = 0;
				rowsFor();
				drawTable();
			});
			tr.append(th);
		}
		head.append(tr);
		const pages = Math.max(1, Math.ceil(tbl.rows.length / PAGE));
		tbl.page = Math.min(tbl.page, pages - 1);
		for (const r of tbl.rows.slice(tbl.page * PAGE, tbl.page * PAGE + PAGE)) {
			const row = el('tr', { class: 'row' });
			for (const c of COLS) {
				let v;
				if (c.key === 'rank')
					v = String(r.rank);
				else if (c.key === 'fn')
					v = leafName(r);
				else if (c.key === 'where')
					v = leafWhere(r);
				else
					v = c.fmt(r.s[SF[c.key]]);
				const td = el('td', c.key === 'fn' ? { class: 'fn', title: v } : null, v);
				if (c.fmt)
					td.title = num(r.s[SF[c.key]]);
				row.append(td);
			}
			body.append(row);
			const site = r.s[0];
			const detail = el('tr', { class: 'stack' });
			const td = el('td', { colspan: COLS.length });
			detail.append(td);
			const show = () => {
				td.textContent = '';
				td.append(M.stackList(site));
				detail.hidden = false;
			};
			detail.hidden = true;
			if (tbl.open.has(site))
				show();
			row.addEventListener('click', () => {
				if (tbl.open.has(site)) {
					tbl.open.delete(site);
					detail.hidden = true;
				} else {
					tbl.open.add(site);
					show();
				}
			});
			body.append(detail);
		}
		if (!tbl.rows.length)
			body.append(el('tr', null, el('td', { colspan: COLS.length, class: 'note' }, 'No stack.')));
		$('t-page').textContent = 'page ' + (tbl.page + 1) + ' of ' + pages + ' (' + num(tbl.rows.length) +
			' stacks)';
		$('t-prev').disabled = tbl.page === 0;
		$('t-next').disabled = tbl.page >= pages - 1;
	}
	function tables() {
		$('t-top').textContent = D.nstacks > D.top ? 'the ' + num(D.top) + ' heaviest of ' + num(D.nstacks) +
			' stacks for each' : num(D.nstacks) + ' stacks';
		const tabs = $('t-tabs');
		for (const w of WEIGHTS) {
			const b = el('button', { type: 'button', role: 'tab', 'data-tab': w.key,
				'aria-selected': String(w.key === tbl.tab) }, w.label);
			b.addEventListener('click', () => {
				tbl.tab = w.key;
				tbl.sort = TAB_FIELD[w.key];
				tbl.desc = true;
				tbl.page = 0;
				for (const o of tabs.children)
					o.setAttribute('aria-selected', String(o === b));
				rowsFor();
				drawTable();
			});
			tabs.append(b);
		}
		$('t-search').addEventListener('input', () => {
			tbl.page = 0;
			rowsFor();
			drawTable();
		});
		$('t-prev').addEventListener('click', () => { tbl.page--; drawTable(); });
		$('t-next').addEventListener('click', () => { tbl.page++; drawTable(); });
		rowsFor();
		drawTable();
	}

	const t0 = performance.now();
	summary();
	flame();
	timeline();
	tables();
	// for tests and the curious: when the page was ready, and its state
	document.body.dataset.ready = String(Math.round(performance.now() - t0));
})();
