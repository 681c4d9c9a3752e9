// bundle.mjs OUT: the scripts and styles of `memlens report --format html`
// and `memlens diff --format html` in one file, which html.c and
// diff_html.c copy after their JSON: the libraries' minified dist files from
// node_modules (installed by `npm ci`, see package-lock.json), then this
// folder's report.css, body.html (both pages, hidden), common.js, report.js
// and diff.js (each draws its page when the JSON is its format).
// A script may not contain "</script" (it would end its element early):
// each is rewritten "<\/script", the same string to JavaScript.
import { readFileSync, writeFileSync, renameSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const nm = join(here, 'node_modules');
const css = [
	join(nm, 'uplot/dist/uPlot.min.css'),
	join(nm, 'd3-flame-graph/dist/d3-flamegraph.css'),
	join(here, 'report.css'),
];
const js = [
	join(nm, 'd3/dist/d3.min.js'),
	join(nm, 'd3-flame-graph/dist/d3-flamegraph.umd.min.js'),
	join(nm, 'uplot/dist/uPlot.iife.min.js'),
	join(here, 'common.js'),
	join(here, 'report.js'),
	join(here, 'diff.js'),
];
const out = process.argv[2];
if (!out) {
	console.error('usage: node bundle.mjs OUT');
	process.exit(2);
}
const read = (f) => {
	try {
		return readFileSync(f, 'utf8');
	} catch (e) {
		console.error(`bundle.mjs: ${f}: ${e.message} (run \`make deps' to install web/node_modules)`);
		process.exit(1);
	}
};
const inScript = (s) => s.replace(/<\/(script)/gi, '<\\/$1').replace(/<!--/g, '<\\!--');
let page = '<style>\n';
for (const f of css)
	page += read(f).replace(/<\/(style)/gi, '<\\/$1') + '\n';
page += '</style>\n</head>\n<body>\n' + read(join(here, 'body.html'));
for (const f of js)
	page += '<script>\n' + inScript(read(f)) + '\n</script>\n';
page += '</body>\n</html>\n';
writeFileSync(out + '.tmp', page);
renameSync(out + '.tmp', out);
