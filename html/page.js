/* page.js - the script of imgscan html's page, compiled into imgscan and
 * written inside the page.  It draws the findings, duplicates, errors and
 * all-images tables from the JSON data block, a page of rows at a time.
 *
 * Every string from a report is data: it reaches the document only through
 * textContent (el() below) or as an attribute value set by setAttribute;
 * nothing here assigns innerHTML.  A string not UTF-8 on disk comes as
 * X (U+FFFD for each bad byte), X_b64 and X_lossy: shown by text().
 *
 * Test hook: page.html#selftest=ACTION;ACTION... runs actions once drawn
 * (filter:kind|code|ext|path:VALUE, sort:COLUMN:asc|desc, pagesize:N,
 * details:N, only:SECTION-ID) and writes what the tables show into <pre id="selftest">. */
(function () {
  'use strict';
  var t0 = performance.now();
  var SEV = { critical: 4, high: 3, medium: 2, low: 1, info: 0 };
  var violations = [];
  document.addEventListener('securitypolicyviolation', function (e) {
    violations.push(e.violatedDirective + ' ' + e.blockedURI);
  });
  var data = JSON.parse(document.getElementById('imgscan-data').textContent);
  var images = data.images, several = data.reports.length > 1;

  function el(tag, cls, txt) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (txt !== undefined && txt !== null) e.textContent = String(txt);
    return e;
  }
  function add(parent) {
    for (var i = 1; i < arguments.length; i++)
      if (arguments[i] !== null && arguments[i] !== undefined)
        parent.appendChild(typeof arguments[i] === 'object' ? arguments[i] : document.createTextNode(String(arguments[i])));
    return parent;
  }
  /* obj[key] as text; a lossy string gets a marker and its exact bytes */
  function text(obj, key, cls) {
    var s = el('span', cls, obj[key] === undefined || obj[key] === null ? '' : obj[key]);
    if (obj[key + '_lossy']) {
      var m = el('span', 'lossy', 'not UTF-8');
      m.title = 'These bytes are not UTF-8: shown with U+FFFD for each bad byte; the exact bytes follow in base64';
      add(s, ' ', m, ' ', el('code', 'b64', 'base64: ' + obj[key + '_b64']));
    }
    return s;
  }
  function bytes(n) {
    var u = ['bytes', 'kB', 'MB', 'GB', 'TB', 'PB', 'EB'], i = 0;
    if (typeof n !== 'number') return '';
    while (n >= 1000 && i < u.length - 1) { n /= 1000; i++; }
    return i ? n.toFixed(n < 10 ? 2 : n < 100 ? 1 : 0) + ' ' + u[i] : n + ' bytes';
  }
  /* own keys only: a severity "constructor" or "__proto__" is no severity */
  function known(sev) { return typeof sev === 'string' && Object.prototype.hasOwnProperty.call(SEV, sev); }
  function badge(sev) { return el('span', 'badge sev-' + (known(sev) ? sev : 'other'), sev); }
  function rank(sev) { return known(sev) ? SEV[sev] : -1; }
  /* v's objects when v is a list: a hand-edited report may hold anything
   * where a list of findings or errors belongs, and one such image must not
   * stop the page (the detail's JSON still shows it as it is) */
  function objects(v) {
    return Array.isArray(v) ? v.filter(function (x) { return x !== null && typeof x === 'object' && !Array.isArray(x); }) : [];
  }
  function ext(img) { return img.extension || ''; }
  function worst(img) {
    var w = -2;
    objects(img.findings).forEach(function (f) { w = Math.max(w, rank(f.severity)); });
    return w;
  }
  function pathCell(img) {
    var td = el('td', 'path');
    add(td, text(img, 'path', 'mono'));
    if (several) add(td, ' ', el('span', 'note', '(report ' + (img.r + 1) + ')'));
    return td;
  }

  /* ---- a sortable, paged table over an array of rows ---- */
  function Table(host, cols, rows, opt) {
    this.host = host; this.cols = cols; this.all = rows; this.rows = rows; this.opt = opt || {};
    this.page = 0; this.size = this.opt.size || 200; this.sortCol = null; this.dir = 1; this.open = {};
    this.filter = null;
    this.build();
  }
  Table.prototype.build = function () {
    var self = this, tr = el('tr');
    this.table = el('table', 'data' + (this.opt.detail ? '' : ' flat'));
    this.table.id = this.host.id.replace(/-table$/, '') + '-grid';
    this.cols.forEach(function (c, i) {
      var th = el('th', c.sort ? null : 'plain');
      th.setAttribute('data-col', c.key);
      if (c.sort) {
        var b = add(el('button'), c.title);
        b.type = 'button';
        b.addEventListener('click', function () { self.sortBy(i, self.sortCol === i ? -self.dir : (c.desc ? -1 : 1)); });
        th.appendChild(b);
      } else {
        th.textContent = c.title;
      }
      tr.appendChild(th);
    });
    this.table.appendChild(el('thead')).appendChild(tr);
    this.body = this.table.appendChild(el('tbody'));
    this.pager = el('div', 'pager');
    add(this.host, this.table, this.pager);
    this.draw();
  };
  Table.prototype.sortBy = function (i, dir) {
    var key = this.cols[i].sort, ths = this.table.tHead.rows[0].cells;
    this.sortCol = i; this.dir = dir;
    var keyed = this.rows.map(function (r, n) { return [key(r), n, r]; });
    keyed.sort(function (a, b) { return a[0] < b[0] ? -dir : a[0] > b[0] ? dir : a[1] - b[1]; });
    this.rows = keyed.map(function (k) { return k[2]; });
    for (var c = 0; c < ths.length; c++) ths[c].removeAttribute('aria-sort');
    ths[i].setAttribute('aria-sort', dir > 0 ? 'ascending' : 'descending');
    this.page = 0;
    this.draw();
  };
  Table.prototype.setFilter = function (fn) {
    this.filter = fn;
    this.rows = fn ? this.all.filter(fn) : this.all;
    if (this.sortCol !== null) return this.sortBy(this.sortCol, this.dir);
    this.page = 0;
    this.draw();
  };
  Table.prototype.draw = function (everything) {
    var self = this, size = everything ? this.rows.length : this.size, from = this.page * size;
    var to = Math.min(this.rows.length, from + size), frag = document.createDocumentFragment();
    for (var i = from; i < to; i++) {
      var tr = el('tr', 'row'), row = this.rows[i];
      this.cols.forEach(function (c) { tr.appendChild(c.cell(row)); });
      if (this.opt.key) tr.setAttribute('data-key', this.opt.key(row));
      frag.appendChild(tr);
      if (this.opt.detail) this.detailToggle(tr, row, frag);
    }
    this.open = {};
    this.body.textContent = '';
    this.body.appendChild(frag);
    if (!this.rows.length) {
      var td = el('td', 'none', this.all.length ? 'No row matches the filter.' : 'None.');
      td.colSpan = this.cols.length;
      add(this.body, add(el('tr'), td));
    }
    this.drawPager(from, to);
    if (this.opt.onDraw) this.opt.onDraw(this);
  };
  Table.prototype.detailToggle = function (tr, row, frag) {
    var self = this, b = el('button', 'open', '\u25B8'), key = this.opt.key(row);
    b.type = 'button';
    b.title = 'Everything the report says of this image';
    b.setAttribute('aria-expanded', 'false');
    tr.cells[0].insertBefore(b, tr.cells[0].firstChild);
    var show = function () {
      var d = el('tr', 'detail'), td = el('td');
      td.colSpan = self.cols.length;
      td.appendChild(self.opt.detail(row));
      d.appendChild(td);
      tr.parentNode.insertBefore(d, tr.nextSibling);
      b.textContent = '\u25BE'; b.setAttribute('aria-expanded', 'true');
      self.open[key] = d;
    };
    b.addEventListener('click', function () {
      if (self.open[key] && self.open[key].parentNode) {
        self.open[key].parentNode.removeChild(self.open[key]);
        delete self.open[key];
        b.textContent = '\u25B8'; b.setAttribute('aria-expanded', 'false');
      } else {
        show();
      }
    });
  };
  Table.prototype.drawPager = function (from, to) {
    var self = this, pages = Math.max(1, Math.ceil(this.rows.length / this.size));
    this.pager.textContent = '';
    var prev = add(el('button'), '\u2039 Previous'), next = add(el('button'), 'Next \u203A');
    prev.type = next.type = 'button';
    prev.disabled = this.page === 0;
    next.disabled = this.page >= pages - 1;
    prev.addEventListener('click', function () { self.page--; self.draw(); });
    next.addEventListener('click', function () { self.page++; self.draw(); });
    var info = el('span', 'range', this.rows.length ? 'rows ' + (from + 1) + '\u2013' + to + ' of ' + this.rows.length +
      (this.rows.length !== this.all.length ? ' (filtered from ' + this.all.length + ')' : '') : '0 rows');
    var sel = el('select');
    [50, 200, 1000, 5000].forEach(function (n) {
      var o = el('option', null, n + ' a page'); o.value = n; if (n === self.size) o.selected = true; sel.appendChild(o);
    });
    sel.addEventListener('change', function () { self.size = +sel.value; self.page = 0; self.draw(); });
    if (this.rows.length > 50) add(this.pager, prev, next, info, sel);
    else add(this.pager, info);
  };

  /* ---- detail of one image: its sections, drawn when opened ---- */
  function value(v) {
    if (v === null || v === undefined) return el('span', 'none', '\u2014');
    if (Array.isArray(v)) {
      if (!v.length) return el('span', 'none', 'none');
      if (objects(v).length === v.length) return grid(v);
      var s = el('span');
      v.forEach(function (x, i) { add(s, i ? ', ' : null, value(x)); });
      return s;
    }
    if (typeof v === 'object') return pairs(v);
    return el('span', typeof v === 'number' ? 'mono' : null, typeof v === 'boolean' ? (v ? 'yes' : 'no') : v);
  }
  function shown(obj) {
    return Object.keys(obj).filter(function (k) { return !/_(b64|lossy)$/.test(k); });
  }
  function cell(obj, k) { return typeof obj[k] === 'string' ? text(obj, k) : value(obj[k]); }
  function pairs(obj) {
    var t = el('table', 'pairs');
    shown(obj).forEach(function (k) { add(t, add(el('tr'), el('th', null, k), add(el('td'), cell(obj, k)))); });
    return t;
  }
  function grid(list) {
    var keys = [], t = el('table', 'grid'), head = el('tr');
    list.forEach(function (o) { shown(o).forEach(function (k) { if (keys.indexOf(k) < 0) keys.push(k); }); });
    keys.forEach(function (k) { head.appendChild(el('th', null, k)); });
    t.appendChild(head);
    list.forEach(function (o) {
      var tr = el('tr');
      keys.forEach(function (k) { add(tr, add(el('td'), o[k] === undefined ? '' : cell(o, k))); });
      t.appendChild(tr);
    });
    return t;
  }
  function section(box, title, node) { if (node) add(box, el('h4', null, title), node); }
  function some(v) { return v === null || v === undefined || (Array.isArray(v) && !v.length) ? null : value(v); }
  function detail(img) {
    var box = el('div', 'detail'), id = img.identification || {}, general = {};
    ['path', 'index', 'file_type', 'extension', 'size', 'mtime', 'kind', 'detail', 'content_bytes', 'suggested_name',
      'reused', 'catalog'].forEach(function (k) {
      if (img[k] !== undefined) general[k] = img[k];
      if (img[k + '_lossy']) { general[k + '_lossy'] = true; general[k + '_b64'] = img[k + '_b64']; }
    });
    if (several) general.report = data.reports[img.r];
    section(box, 'Image', pairs(general));
    section(box, 'Findings', some(img.findings));
    section(box, 'Errors', some(img.errors));
    var digests = {};
    Object.keys(img.hashes || {}).forEach(function (k) { digests[k] = img.hashes[k]; });
    if (img.sectors) digests.sectors = img.sectors;
    section(box, 'Digests', img.hashes || img.sectors ? pairs(digests) : el('span', 'none', 'none: not read whole'));
    section(box, 'Partitions (our probes)', some(id.partition_table));
    section(box, 'File systems and structures found (our probes)', some(id.probes));
    section(box, 'The Sleuth Kit\u2019s view', some(id.tsk));
    section(box, 'Inside', some(img.inside));
    section(box, 'Media (segments)', some(img.media));
    section(box, 'Acquisition (EWF)', some(img.acquisition));
    var raw = el('details'), pre = el('pre', 'mono', JSON.stringify(img, null, 1));
    add(raw, el('summary', null, 'The report\u2019s entry (JSON)'), pre);
    box.appendChild(raw);
    return box;
  }

  /* ---- the four tables ---- */
  function td(cls, txt) { return el('td', cls, txt); }
  var imageCols = [
    { key: 'index', title: '#', sort: function (r) { return (r.r || 0) * 1e15 + r.index; }, cell: function (r) { return td('num', r.index); } },
    { key: 'path', title: 'Path', sort: function (r) { return r.path; }, cell: pathCell },
    { key: 'kind', title: 'Kind', sort: function (r) { return r.kind; }, cell: function (r) { return td('nowrap', r.kind); } },
    { key: 'detail', title: 'What it is', sort: function (r) { return r.detail || ''; }, cell: function (r) { return td(null, r.detail); } },
    { key: 'ext', title: 'Ext.', sort: ext, cell: function (r) { return add(td('mono'), text(r, 'extension')); } },
    { key: 'size', title: 'Size', desc: true, sort: function (r) { return r.size; }, cell: function (r) { var c = td('num', bytes(r.size)); c.title = r.size + ' bytes'; return c; } },
    { key: 'findings', title: 'Findings', desc: true, sort: function (r) { return worst(r) * 1000 + objects(r.findings).length; },
      cell: function (r) {
        var c = td();
        objects(r.findings).forEach(function (f) { add(c, badge(f.severity), ' ', el('span', 'code', f.code), el('br')); });
        if (objects(r.errors).length) add(c, el('span', 'badge sev-high', 'error'));
        return c;
      } },
    { key: 'xxh128', title: 'XXH128', cell: function (r) { return td('mono', r.hashes ? r.hashes.xxh128 : '\u2014'); } }
  ];

  var findings = [];
  images.forEach(function (img) { objects(img.findings).forEach(function (f) { findings.push({ img: img, f: f }); }); });
  findings.sort(function (a, b) {
    return rank(b.f.severity) - rank(a.f.severity) || (a.f.code < b.f.code ? -1 : a.f.code > b.f.code ? 1 : 0) ||
      (a.img.path < b.img.path ? -1 : a.img.path > b.img.path ? 1 : 0);
  });
  var findingCols = [
    { key: 'severity', title: 'Severity', desc: true, sort: function (r) { return rank(r.f.severity); }, cell: function (r) { return add(td(), badge(r.f.severity)); } },
    { key: 'code', title: 'Finding', sort: function (r) { return r.f.code; }, cell: function (r) { return td('code', r.f.code); } },
    { key: 'path', title: 'Path', sort: function (r) { return r.img.path; }, cell: function (r) { return pathCell(r.img); } },
    { key: 'what', title: 'What it is', sort: function (r) { return r.img.kind + ' ' + (r.img.detail || ''); },
      cell: function (r) { return add(td(), el('b', null, r.img.kind), ': ', r.img.detail || ''); } },
    { key: 'message', title: 'What is wrong', cell: function (r) { return td(null, r.f.message); } },
    { key: 'suggested', title: 'Suggested name', sort: function (r) { return r.f.suggested_name || ''; },
      cell: function (r) { return add(td('path'), r.f.suggested_name !== undefined ? text(r.f, 'suggested_name', 'suggest mono') : ''); } }
  ];

  var groups = {}, dups = [];
  images.forEach(function (img) {
    if (!img.hashes || !img.hashes.xxh128 || !img.size) return;
    var k = img.hashes.xxh128 + '/' + img.size;
    (groups[k] = groups[k] || []).push(img);
  });
  Object.keys(groups).forEach(function (k) { if (groups[k].length > 1) dups.push(groups[k]); });
  dups.sort(function (a, b) { return b[0].size - a[0].size || (a[0].hashes.xxh128 < b[0].hashes.xxh128 ? -1 : 1); });
  var dupCols = [
    { key: 'xxh128', title: 'XXH128', sort: function (g) { return g[0].hashes.xxh128; }, cell: function (g) { return td('mono', g[0].hashes.xxh128); } },
    { key: 'size', title: 'Size', desc: true, sort: function (g) { return g[0].size; }, cell: function (g) { return td('num', bytes(g[0].size)); } },
    { key: 'count', title: 'Copies', desc: true, sort: function (g) { return g.length; }, cell: function (g) { return td('num', g.length); } },
    { key: 'paths', title: 'Paths', cell: function (g) {
      var ul = el('ul', 'paths');
      g.forEach(function (img) { add(ul, add(el('li'), text(img, 'path', 'mono'), several ? ' (report ' + (img.r + 1) + ')' : '')); });
      return add(td('path'), ul);
    } }
  ];

  var errors = [];
  images.forEach(function (img) { objects(img.errors).forEach(function (e) { errors.push({ img: img, e: e }); }); });
  data.walk_errors.forEach(function (w) {
    errors.push({ img: w, e: { stage: 'walk', errno: w.errno, message: w.error } });
  });
  var errorCols = [
    { key: 'path', title: 'Path', sort: function (r) { return r.img.path; }, cell: function (r) { return pathCell(r.img); } },
    { key: 'stage', title: 'Stage', sort: function (r) { return r.e.stage; }, cell: function (r) { return td('nowrap', r.e.stage); } },
    { key: 'errno', title: 'errno', sort: function (r) { return r.e.errno || ''; }, cell: function (r) { return td('mono', r.e.errno || ''); } },
    { key: 'offset', title: 'Offset', cell: function (r) { return td('num', r.e.offset === undefined ? '' : r.e.offset); } },
    { key: 'message', title: 'What happened', cell: function (r) { return td(null, r.e.message); } }
  ];

  function count(id, n, what) { document.getElementById(id).textContent = n + ' ' + what; }
  var tFind = new Table(document.getElementById('findings-table'), findingCols, findings,
    { key: function (r) { return r.img.index; } });
  var tDup = new Table(document.getElementById('duplicates-table'), dupCols, dups, { size: 50 });
  var tErr = new Table(document.getElementById('errors-table'), errorCols, errors, {});
  var tImg = new Table(document.getElementById('images-table'), imageCols, images,
    { key: function (r) { return (r.r || 0) + ':' + r.index; }, detail: detail,
      onDraw: function (t) { count('images-count', t.rows.length === images.length ? images.length : t.rows.length + ' of ' + images.length, ''); } });
  tImg.sortBy(0, 1); /* walk order (the report's is completion order) */
  count('findings-count', findings.length, '');
  count('duplicates-count', dups.length, 'groups');
  count('errors-count', errors.length, '');
  document.getElementById('dup-count').textContent = dups.length;

  /* ---- the filters of the images table ---- */
  var filters = document.getElementById('images-filters'), f = { kind: '', code: '', ext: '', path: '' };
  function choice(name, label, values, first) {
    var l = el('label', null, label), s = el('select');
    s.name = name;
    [['', first]].concat(values.map(function (v) { return [v, v === '' ? '(none)' : v]; })).forEach(function (v) {
      var o = el('option', null, v[1]); o.value = v[0]; s.appendChild(o);
    });
    s.addEventListener('change', function () { f[name] = s.value; apply(); });
    return add(filters, add(l, s));
  }
  function distinct(get) {
    var seen = {};
    images.forEach(function (img) { get(img).forEach(function (v) { seen['$' + v] = 1; }); });
    return Object.keys(seen).map(function (k) { return k.slice(1); }).sort();
  }
  choice('kind', 'Kind', distinct(function (i) { return [i.kind]; }), 'any kind');
  choice('code', 'Finding', ['(any finding)', '(no finding)'].concat(distinct(function (i) {
    return objects(i.findings).map(function (x) { return x.code; });
  })), 'all images');
  choice('ext', 'Extension', distinct(function (i) { return [ext(i)]; }), 'any extension');
  var search = el('input');
  search.type = 'search'; search.name = 'path'; search.placeholder = 'part of the path';
  search.addEventListener('input', function () { f.path = search.value; apply(); });
  add(filters, add(el('label', null, 'Path contains'), search));
  function apply() {
    var needle = f.path.toLowerCase();
    tImg.setFilter(f.kind || f.code || f.ext || needle ? function (img) {
      if (f.kind && img.kind !== f.kind) return false;
      if (f.ext && ext(img) !== (f.ext === '(none)' ? '' : f.ext)) return false;
      var fs = objects(img.findings);
      if (f.code === '(any finding)' && !fs.length) return false;
      if (f.code === '(no finding)' && fs.length) return false;
      if (f.code && f.code[0] !== '(' && !fs.some(function (x) { return x.code === f.code; })) return false;
      return !needle || String(img.path).toLowerCase().indexOf(needle) >= 0;
    } : null);
  }

  /* ---- print every row, not only the page on screen ---- */
  var tables = [tFind, tDup, tErr, tImg];
  window.addEventListener('beforeprint', function () { tables.forEach(function (t) { t.draw(true); }); });
  window.addEventListener('afterprint', function () { tables.forEach(function (t) { t.draw(); }); });

  /* ---- the test hook ---- */
  var ready = performance.now(); /* since the navigation started: the file's parsing included */
  var m = /#selftest=([^&]*)/.exec(location.hash);
  if (m) {
    decodeURIComponent(m[1]).split(';').forEach(function (a) {
      var p = a.split(':'), verb = p[0], arg = p.slice(1).join(':');
      if (verb === 'filter') {
        var what = p[1], v = p.slice(2).join(':');
        if (!Object.prototype.hasOwnProperty.call(f, what)) return; /* the four filters, nothing else */
        f[what] = v;
        if (what === 'path') search.value = v;
        apply();
      } else if (verb === 'sort') {
        for (var i = 0; i < imageCols.length; i++)
          if (imageCols[i].key === p[1]) tImg.sortBy(i, p[2] === 'desc' ? -1 : 1);
      } else if (verb === 'pagesize') {
        tImg.size = +arg; tImg.page = 0; tImg.draw();
      } else if (verb === 'only') { /* one section, for a screenshot of it */
        Array.prototype.forEach.call(document.querySelectorAll('main > section'), function (s) { s.hidden = s.id !== arg; });
      } else if (verb === 'details') {
        var b = tImg.body.querySelectorAll('button.open')[+arg];
        if (b) b.click();
      }
    });
    var report = function () {
      var rows = [], out = document.getElementById('selftest');
      Array.prototype.forEach.call(tImg.body.querySelectorAll('tr.row'), function (tr) { rows.push(tr.getAttribute('data-key')); });
      out.textContent = JSON.stringify({
      ready_ms: Math.round(ready), script_ms: Math.round(ready - t0), done_ms: Math.round(performance.now()), images: images.length,
      images_shown: tImg.rows.length, image_rows: rows, findings: findings.length,
      findings_rows: tFind.body.querySelectorAll('tr.row').length, duplicate_groups: dups.length,
      errors: errors.length, violations: violations
      });
      out.hidden = false;
    };
    report();
    document.addEventListener('securitypolicyviolation', function () { setTimeout(report, 0); });
  }
  document.title = document.title + ' \u00b7 ready in ' + Math.round(performance.now()) + ' ms';
})();
