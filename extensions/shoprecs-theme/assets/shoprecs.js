/* shoprecs storefront widget. Fills every [data-shoprecs-block] with the HTML the shoprecs
 * server renders behind the app proxy, and reports impressions and clicks.
 * Plain ES2017, no dependencies, no build step; must stay under 10 000 bytes (theme-check). */
(function () {
  'use strict';
  if (window.Shoprecs) return;

  var VERSION = '1.0.0';
  var PROXY = 'apps/recs/';
  var ITEM_LINK = 'a[data-shoprecs-product-id], [data-shoprecs-item] a';
  var seen = {};
  var observer = null;

  function noop() {}

  function root() {
    var r = (window.Shopify && window.Shopify.routes && window.Shopify.routes.root) || '/';
    return r.charAt(r.length - 1) === '/' ? r : r + '/';
  }

  function clientId() {
    var m = /(?:^|;\s*)_shopify_y=([^;]*)/.exec(document.cookie || '');
    if (!m) return '';
    try { return decodeURIComponent(m[1]); } catch (e) { return m[1]; }
  }

  // Empty values are left out. Spaces go out as %20, never '+', so that every decoder (and
  // the app proxy signature) reads the same value.
  function url(path, params) {
    var q = [];
    Object.keys(params).forEach(function (k) {
      if (params[k] !== undefined && params[k] !== null && params[k] !== '') {
        q.push(k + '=' + encodeURIComponent(String(params[k])));
      }
    });
    return root() + PROXY + path + '?' + q.join('&');
  }

  function ids(value) {
    var out = [];
    String(value || '').split(',').forEach(function (id) {
      id = id.trim();
      if (/^\d+$/.test(id) && out.indexOf(id) < 0 && out.length < 50) out.push(id);
    });
    return out.join(',');
  }

  function flag(value) {
    return value === 'true' ? '1' : '0';
  }

  function limit(value) {
    var n = parseInt(value, 10);
    return isNaN(n) ? 4 : Math.min(24, Math.max(1, n));
  }

  function widgetUrl(el, list, heading) {
    var d = el.dataset;
    return url('widget', {
      placement: d.placement,
      product_id: ids(d.productId),
      product_ids: ids(d.cartProductIds),
      limit: limit(d.limit),
      heading: (heading || '').trim(),
      layout: d.layout,
      show_price: flag(d.showPrice),
      show_add_to_cart: flag(d.showAddToCart),
      list: list,
      client_id: clientId(),
      // Only a cache key: a guest's cached list is never shown to a customer. The server knows
      // the customer from the proxy's signed logged_in_customer_id, never from this.
      customer: ids(d.customer)
    });
  }

  function track(params) {
    params.client_id = clientId();
    try {
      fetch(url('track', params), { method: 'POST', keepalive: true, credentials: 'same-origin' })
        .catch(noop);
    } catch (e) { /* never break the page */ }
  }

  // Only nodes the server marks as a recommendation section are inserted, so an error page,
  // a password page or a login redirect can never end up inside the block.
  function sections(res) {
    if (!res || res.status !== 200 || res.redirected) return [];
    return res.text().then(function (html) {
      if (!html || !html.trim()) return [];
      var tpl = document.createElement('template');
      tpl.innerHTML = html;
      return Array.prototype.slice.call(tpl.content.querySelectorAll('[data-shoprecs-token]'));
    });
  }

  function fetchSections(u) {
    return fetch(u, { credentials: 'same-origin', headers: { Accept: 'text/html' } })
      .then(sections)
      .catch(function () { return []; });
  }

  function visible(entry) {
    if (!entry.isIntersecting) return false;
    if (entry.intersectionRatio >= 0.5) return true;
    // A section taller than two screens never reaches 50%: half the viewport counts too.
    var rb = entry.rootBounds;
    return !!rb && entry.intersectionRect.height >= rb.height / 2;
  }

  function impression(section) {
    var token = section.getAttribute('data-shoprecs-token');
    if (!token || seen[token]) return;
    seen[token] = true;
    track({ event: 'impression', token: token });
  }

  function watch(section) {
    var token = section.getAttribute('data-shoprecs-token');
    if (!token || seen[token]) return;
    if (!('IntersectionObserver' in window)) return impression(section);
    if (!observer) {
      observer = new IntersectionObserver(function (entries) {
        entries.forEach(function (entry) {
          if (!visible(entry)) return;
          observer.unobserve(entry.target);
          impression(entry.target);
        });
      }, { threshold: [0, 0.25, 0.5, 0.75, 1] });
    }
    observer.observe(section);
  }

  function load(el) {
    if (el.hasAttribute('data-shoprecs-state')) return Promise.resolve();
    var d = el.dataset;
    // Nothing to recommend from: an empty cart, a product block outside a product page.
    if ((d.placement === 'cart' && !ids(d.cartProductIds)) ||
        (d.placement === 'product' && !ids(d.productId))) {
      el.setAttribute('data-shoprecs-state', 'empty');
      return Promise.resolve();
    }
    el.setAttribute('data-shoprecs-state', 'loading');
    var lists = (d.lists || '').split(',').map(function (s) { return s.trim(); })
      .filter(Boolean);
    var requests = lists.length
      ? lists.map(function (list, i) {
        var heading = i === 0 ? d.heading : d['heading-' + (i + 1)];
        return fetchSections(widgetUrl(el, list, heading));
      })
      : [fetchSections(widgetUrl(el, null, d.heading))];
    return Promise.all(requests).then(function (results) {
      var found = [].concat.apply([], results);
      if (!found.length) {
        el.setAttribute('data-shoprecs-state', 'empty');
        return;
      }
      el.textContent = '';
      found.forEach(function (section) { el.appendChild(section); });
      el.setAttribute('data-shoprecs-state', 'loaded');
      found.forEach(watch);
    }).catch(function () {
      el.setAttribute('data-shoprecs-state', 'empty');
    });
  }

  function init(scope) {
    var base = scope && scope.querySelectorAll ? scope : document;
    var blocks = Array.prototype.slice.call(base.querySelectorAll('[data-shoprecs-block]'));
    if (base.matches && base.matches('[data-shoprecs-block]')) blocks.unshift(base);
    return Promise.all(blocks.map(function (el) {
      try { return load(el); } catch (e) { return undefined; }
    }));
  }

  function onClick(event) {
    if (event.type === 'auxclick' && event.button !== 1) return;
    if (event.type === 'click' && event.button !== 0) return;
    var t = event.target;
    var link = t && t.closest ? t.closest(ITEM_LINK) : null;
    if (!link) return;
    var section = link.closest('[data-shoprecs-token]');
    if (!section) return;
    var item = link.closest('[data-shoprecs-item]');
    function attr(name) {
      return link.getAttribute(name) || (item && item.getAttribute(name)) || '';
    }
    track({
      event: 'click',
      token: section.getAttribute('data-shoprecs-token'),
      product_id: attr('data-shoprecs-product-id'),
      position: attr('data-shoprecs-position')
    });
  }

  // Themes re-render sections (cart updates, the theme editor) by swapping HTML in place:
  // pick up blocks that appear after the first pass.
  function watchDom() {
    if (!('MutationObserver' in window)) return;
    var pending = false;
    new MutationObserver(function (mutations) {
      if (pending) return;
      var found = mutations.some(function (m) {
        return Array.prototype.some.call(m.addedNodes, function (n) {
          return n.nodeType === 1 && (n.matches('[data-shoprecs-block]') ||
            !!n.querySelector('[data-shoprecs-block]:not([data-shoprecs-state])'));
        });
      });
      if (!found) return;
      pending = true;
      setTimeout(function () { pending = false; init(document); }, 0);
    }).observe(document.documentElement, { childList: true, subtree: true });
  }

  function start() {
    init(document);
    watchDom();
  }

  document.addEventListener('click', onClick, true);
  document.addEventListener('auxclick', onClick, true);
  document.addEventListener('shopify:section:load', function (e) { init(e.target); });

  window.Shoprecs = { init: init, version: VERSION };

  if (document.readyState === 'loading') {
    document.addEventListener('DOMContentLoaded', start);
  } else {
    start();
  }
})();
