// pare's report pages: a zoomable squarified treemap and a searchable file tree
// (xray), and filter boxes for long tables (diff, build). No library: the page must
// open from file:// with no network. Data comes from <script type="application/json">.
(function () {
  'use strict';

  // A tree node is [name, kind, bytes, files, layer, children?]; kind d f l m.
  var NAME = 0, KIND = 1, BYTES = 2, FILES = 3, LAYER = 4, KIDS = 5;
  var SVG = 'http://www.w3.org/2000/svg';

  function bytes(n) {
    var units = ['B', 'kB', 'MB', 'GB', 'TB'], u = 0;
    while (n >= 1000 && u < units.length - 1) { n /= 1000; u++; }
    return u === 0 ? n + ' B' : n.toFixed(1) + ' ' + units[u];
  }

  function json(id) {
    var el = document.getElementById(id);
    return el ? JSON.parse(el.textContent) : null;
  }

  function el(tag, attrs, text) {
    var e = document.createElement(tag);
    for (var k in attrs) { e.setAttribute(k, attrs[k]); }
    if (text !== undefined) { e.textContent = text; }
    return e;
  }

  // Gives every node its path and parent, once.
  function link(node, path, parent) {
    node.path = path;
    node.parent = parent;
    (node[KIDS] || []).forEach(function (c) {
      link(c, path === '/' ? '/' + c[NAME] : path + '/' + c[NAME], node);
    });
  }

  // Squarified layout (Bruls, Huizing, van Wijk): rows of rectangles whose aspect
  // ratios stay near 1, largest first.
  function squarify(nodes, x, y, w, h) {
    var total = 0;
    nodes.forEach(function (n) { total += n[BYTES]; });
    var rects = [];
    if (total <= 0 || w < 1 || h < 1) { return rects; }
    var scale = w * h / total;
    var items = nodes.filter(function (n) { return n[BYTES] > 0; })
      .map(function (n) { return { node: n, area: n[BYTES] * scale }; });
    var i = 0;
    while (i < items.length) {
      var side = Math.min(w, h);
      var row = [items[i]], sum = items[i].area, best = worst(row, sum, side), j = i + 1;
      while (j < items.length) {
        var next = row.concat([items[j]]), nsum = sum + items[j].area, score = worst(next, nsum, side);
        if (score > best) { break; }
        row = next; sum = nsum; best = score; j++;
      }
      var thick = sum / side, off = 0;
      row.forEach(function (it) {
        var len = it.area / thick;
        if (w >= h) { rects.push({ node: it.node, x: x, y: y + off, w: thick, h: len }); }
        else { rects.push({ node: it.node, x: x + off, y: y, w: len, h: thick }); }
        off += len;
      });
      if (w >= h) { x += thick; w -= thick; } else { y += thick; h -= thick; }
      i = j;
    }
    return rects;
  }

  function worst(row, sum, side) {
    var max = 0, min = Infinity;
    row.forEach(function (r) { max = Math.max(max, r.area); min = Math.min(min, r.area); });
    var s2 = sum * sum, w2 = side * side;
    return Math.max(w2 * max / s2, s2 / (w2 * min));
  }

  function Treemap(root, palette, layerNames) {
    var box = document.getElementById('treemap');
    var crumbs = document.getElementById('crumbs');
    var info = document.getElementById('treemap-info');
    var current = root;

    function colour(node) { return palette[node[LAYER] % palette.length]; }

    function describe(node) {
      var what = node[KIND] === 'd' ? node[FILES] + ' files, ' : '';
      var layer = node[KIND] === 'm' ? '' : ', layer ' + node[LAYER] +
        (layerNames[node[LAYER]] ? ' (' + layerNames[node[LAYER]] + ')' : '');
      return (node[KIND] === 'm' ? node.parent.path + ': ' + node[NAME] : node.path) +
        ': ' + what + bytes(node[BYTES]) + layer;
    }

    function rect(svg, r, node, cls) {
      var e = document.createElementNS(SVG, 'rect');
      e.setAttribute('x', r.x.toFixed(1));
      e.setAttribute('y', r.y.toFixed(1));
      e.setAttribute('width', Math.max(0, r.w).toFixed(1));
      e.setAttribute('height', Math.max(0, r.h).toFixed(1));
      e.setAttribute('fill', colour(node));
      e.setAttribute('class', cls);
      var t = document.createElementNS(SVG, 'title');
      t.textContent = describe(node);
      e.appendChild(t);
      e.addEventListener('mouseover', function () { info.textContent = describe(node); });
      if (node[KIND] === 'd') {
        e.addEventListener('click', function (ev) { ev.stopPropagation(); zoom(node); });
      }
      svg.appendChild(e);
    }

    function label(svg, r, text, cls) {
      var max = Math.floor((r.w - 6) / 6.5);
      if (max < 3 || r.h < 14) { return; }
      var t = document.createElementNS(SVG, 'text');
      t.setAttribute('x', (r.x + 3).toFixed(1));
      t.setAttribute('y', (r.y + 12).toFixed(1));
      t.setAttribute('class', cls);
      t.textContent = text.length > max ? text.slice(0, max - 1) + '…' : text;
      svg.appendChild(t);
    }

    function draw() {
      var w = box.clientWidth || 1000, h = box.clientHeight || 540;
      var svg = document.createElementNS(SVG, 'svg');
      svg.setAttribute('width', w);
      svg.setAttribute('height', h);
      squarify(current[KIDS] || [], 0, 0, w, h).forEach(function (r) {
        var node = r.node;
        rect(svg, r, node, node[KIND] === 'd' ? 'dir' : 'file');
        // One level deeper inside each directory big enough to show it.
        if (node[KIND] === 'd' && r.w > 40 && r.h > 40) {
          squarify(node[KIDS] || [], r.x + 2, r.y + 16, r.w - 4, r.h - 18).forEach(function (c) {
            rect(svg, c, c.node, c.node[KIND] === 'd' ? 'dir' : 'file');
            label(svg, c, c.node[NAME], '');
          });
          label(svg, r, node[NAME] + ' ' + bytes(node[BYTES]), 'head');
        } else {
          label(svg, r, node[NAME], '');
        }
      });
      box.replaceChildren(svg);
      crumbs.replaceChildren();
      var chain = [];
      for (var n = current; n; n = n.parent) { chain.unshift(n); }
      chain.forEach(function (n, i) {
        var a = el('a', {}, i === 0 ? '/' : n[NAME] + (i < chain.length - 1 ? '/' : ''));
        a.addEventListener('click', function () { zoom(n); });
        crumbs.appendChild(a);
      });
      crumbs.appendChild(el('span', { 'class': 'note' }, '  ' + bytes(current[BYTES]) + ', ' + current[FILES] + ' files'));
    }

    function zoom(node) {
      current = node[KIND] === 'd' ? node : (node.parent || root);
      draw();
    }

    window.addEventListener('resize', draw);
    draw();
    return { zoom: zoom };
  }

  function FileTree(root, treemap) {
    var box = document.getElementById('filetree');
    var search = document.getElementById('search');
    var results = document.getElementById('search-results');

    function item(node) {
      var li = el('li');
      var isDir = node[KIND] === 'd' && node[KIDS];
      var toggle = el('span', { 'class': 'toggle' }, isDir ? '▸' : '');
      li.appendChild(toggle);
      li.appendChild(el('span', { 'class': node[KIND] === 'm' ? 'note' : 'mono' }, node[NAME]));
      li.appendChild(el('span', { 'class': 'size' }, bytes(node[BYTES]) + (node[KIND] === 'd' ? ', ' + node[FILES] + ' files' : '')));
      if (isDir) {
        var open = false, list = null;
        toggle.addEventListener('click', function () {
          open = !open;
          toggle.textContent = open ? '▾' : '▸';
          if (open && !list) { list = listOf(node); li.appendChild(list); }
          if (list) { list.hidden = !open; }
        });
      }
      return li;
    }

    function listOf(node) {
      var ul = el('ul');
      (node[KIDS] || []).forEach(function (c) { ul.appendChild(item(c)); });
      return ul;
    }

    function find(query) {
      var found = [], q = query.toLowerCase(), stack = [root];
      while (stack.length && found.length < 500) {
        var n = stack.pop();
        if (n !== root && n[KIND] !== 'm' && n[NAME].toLowerCase().indexOf(q) >= 0) { found.push(n); }
        (n[KIDS] || []).forEach(function (c) { stack.push(c); });
      }
      found.sort(function (a, b) { return a.path < b.path ? -1 : 1; });
      return found;
    }

    function show() {
      var q = search.value.trim();
      results.replaceChildren();
      if (q.length < 2) { return; }
      var found = find(q);
      results.appendChild(el('p', { 'class': 'note' }, found.length >= 500 ? 'The first 500 matches:' : found.length + ' match' + (found.length === 1 ? '' : 'es')));
      found.forEach(function (n) {
        var row = el('div', { 'class': 'hit' }, n.path);
        row.appendChild(el('span', { 'class': 'size' }, bytes(n[BYTES]) + ', layer ' + n[LAYER]));
        row.addEventListener('click', function () {
          treemap.zoom(n);
          document.getElementById('filesystem').scrollIntoView();
        });
        results.appendChild(row);
      });
    }

    search.addEventListener('input', show);
    box.appendChild(listOf(root));
  }

  // A search box with data-filter="ID" hides the rows of table ID that do not match.
  function filters() {
    document.querySelectorAll('input[data-filter]').forEach(function (input) {
      var table = document.getElementById(input.getAttribute('data-filter'));
      if (!table) { return; }
      input.addEventListener('input', function () {
        var q = input.value.trim().toLowerCase();
        table.querySelectorAll('tbody tr').forEach(function (tr) {
          tr.hidden = q !== '' && tr.textContent.toLowerCase().indexOf(q) < 0;
        });
      });
    });
  }

  var tree = json('tree-data');
  if (tree) {
    link(tree, '/', null);
    var palette = json('palette') || ['#4e79a7'];
    var treemap = Treemap(tree, palette, json('layer-names') || []);
    FileTree(tree, treemap);
  }
  filters();
})();
