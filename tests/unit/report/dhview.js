// dhview.js DH_VIEW_JS FILE: runs valgrind's DHAT viewer (dh_view.js, as
// dh_view.html loads it) in node with a minimal fake DOM, loads FILE the
// way the page does (JSON.parse, buildTree, displayTree) and prints the
// text of the page's main part.  Exit status 1 with the viewer's error when
// it rejects the file.
"use strict";
const fs = require("fs");
const vm = require("vm");

class Node {
  constructor(tag, text) {
    this.tagName = tag;
    this.childNodes = [];
    this.parentNode = null;
    this._text = text === undefined ? "" : text;
    this.className = "";
    const self = this;
    this.classList = {
      _s: new Set(),
      add(c) { this._s.add(c); },
      remove(c) { this._s.delete(c); },
      toggle(c) { if (this._s.has(c)) this._s.delete(c); else this._s.add(c); },
      contains(c) { return this._s.has(c) || self.className.split(" ").includes(c); },
    };
    this.style = {};
  }
  appendChild(c) { c.parentNode = this; this.childNodes.push(c); return c; }
  replaceChild(n, o) {
    const i = this.childNodes.indexOf(o);
    this.childNodes[i] = n;
    n.parentNode = this;
    return o;
  }
  get selectedIndex() {
    const i = this.childNodes.findIndex(c => c.selected);
    return i < 0 ? 0 : i;
  }
  cloneNode() { const n = new Node(this.tagName); n.className = this.className; return n; }
  get nextSibling() {
    const s = this.parentNode.childNodes;
    return s[s.indexOf(this) + 1] || null;
  }
  get textContent() {
    return this.tagName === "#text" ? this._text : this._text + this.childNodes.map(c => c.textContent).join("");
  }
  set textContent(t) { this._text = t; this.childNodes = []; }
}

const document = {
  title: "",
  body: new Node("body"),
  location: { search: "" },
  createElement: (t) => new Node(t),
  createTextNode: (t) => new Node("#text", t),
};
const ctx = vm.createContext({ document, console, Intl, URLSearchParams, performance, Math, JSON });
vm.runInContext(fs.readFileSync(process.argv[2], "utf8"), ctx, { filename: "dh_view.js" });
ctx.__data = fs.readFileSync(process.argv[3], "utf8");
try {
  vm.runInContext(`
    onLoad();
    gFilename = "file";
    gData = JSON.parse(__data);
    buildTree();
    displayTree(0, 0, 0);
    __out = gMainDiv.textContent;
  `, ctx);
} catch (e) {
  console.log("dh_view: " + e);
  process.exit(1);
}
process.stdout.write(ctx.__out);
