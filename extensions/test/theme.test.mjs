// assets/shoprecs.js in a DOM (jsdom): the widget URL it builds from the block's data
// attributes, what it inserts from the server's fragment, and the impressions and clicks it
// reports. fetch and IntersectionObserver are stand-ins; the fragment follows the contract in
// README.md ("Shopify extensions").
import test from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { JSDOM } from 'jsdom';

const SCRIPT = fs.readFileSync(new URL('../shoprecs-theme/assets/shoprecs.js', import.meta.url), 'utf8');

// What the product block renders (blocks/product-recommendations.liquid) for product 7.
const PRODUCT_BLOCK = `<div class="shoprecs-block" data-shoprecs-block data-placement="product"
  data-product-id="7" data-customer="" data-lists="bought_together,also_viewed"
  data-heading="Frequently bought together" data-heading-2="You &amp; me" data-limit="4"
  data-layout="grid" data-show-price="true" data-show-add-to-cart="false"
  data-shopify-editor-block="{}"></div>`;

const CART_BLOCK = `<div class="shoprecs-block" data-shoprecs-block data-placement="cart"
  data-cart-product-ids="7,9,7,x,11" data-customer="901" data-heading="Complete your order"
  data-limit="99" data-layout="carousel" data-show-price="true" data-show-add-to-cart="true"></div>`;

const HOME_BLOCK = `<div class="shoprecs-block" data-shoprecs-block data-placement="home" data-customer=""
  data-heading="" data-limit="8" data-layout="grid" data-show-price="false" data-show-add-to-cart="false"></div>`;

// Shaped like the server's templates/widget/list.html.
function fragment(token, list, ids) {
  const items = ids.map((id, i) => `
    <li class="shoprecs__item" data-shoprecs-item data-shoprecs-product-id="${id}" data-shoprecs-position="${i + 1}" data-shoprecs-reason="${list}" title="Often bought together">
      <a class="shoprecs__link" href="/products/p${id}" data-shoprecs-product-id="${id}" data-shoprecs-position="${i + 1}">
        <img class="shoprecs__image" src="/p${id}.jpg" alt="P${id}" width="600" height="600" loading="lazy" decoding="async">
        <span class="shoprecs__title">P${id}</span>
      </a>
      <p class="shoprecs__price">€12,50</p>
      <form class="shoprecs__form" method="post" action="/fr/cart/add">
        <input type="hidden" name="id" value="${id}0"><input type="hidden" name="quantity" value="1">
        <button class="shoprecs__button" type="submit" aria-label="Add P${id} to cart">Add to cart</button>
      </form>
    </li>`).join('');
  return `<section class="shoprecs shoprecs--grid" data-shoprecs-token="${token}" data-shoprecs-placement="product" data-shoprecs-list="${list}" aria-labelledby="shoprecs-${token}">
  <h2 class="shoprecs__heading" id="shoprecs-${token}">${list}</h2><ul class="shoprecs__list" role="list">${items}</ul></section>`;
}

// A page with the given blocks, shoprecs.js loaded, and a fetch that answers with `respond`.
async function page(body, respond, { io = true, root = '/fr/', cookie = '_shopify_y=abc%3D1; other=1' } = {}) {
  const dom = new JSDOM(`<!doctype html><html><body>${body}</body></html>`, {
    url: 'https://demo.example/products/mug',
    runScripts: 'outside-only',
  });
  const { window } = dom;
  const calls = [];
  const observers = [];
  const errors = [];
  window.console.error = (...args) => errors.push(args.join(' '));
  window.Shopify = root === null ? undefined : { routes: { root } };
  window.document.cookie = cookie;
  window.fetch = (url, init = {}) => {
    calls.push({ url: String(url), init });
    return Promise.resolve(respond(String(url), init));
  };
  if (io) {
    window.IntersectionObserver = class {
      constructor(cb, options) { this.cb = cb; this.options = options; this.targets = new Set(); observers.push(this); }
      observe(el) { this.targets.add(el); }
      unobserve(el) { this.targets.delete(el); }
      fire(el, ratio, height = 1000) {
        this.cb([{ target: el, isIntersecting: ratio > 0, intersectionRatio: ratio,
          intersectionRect: { height: height * ratio }, rootBounds: { height: 800 } }], this);
      }
    };
  }
  window.eval(SCRIPT);
  await settle();
  return { window, document: window.document, calls, observers, errors };
}

const settle = () => new Promise((resolve) => setTimeout(resolve, 20));
const html = (text, status = 200) => new Response(text, { status, headers: { 'Content-Type': 'text/html' } });
const widgetCalls = (calls) => calls.filter((c) => c.url.includes('/apps/recs/widget?'));
const trackCalls = (calls) => calls.filter((c) => c.url.includes('/apps/recs/track?'));

function byList(url) {
  if (url.includes('list=bought_together')) return html(fragment('tokA', 'bought_together', [11, 12]));
  if (url.includes('list=also_viewed')) return html(fragment('tokB', 'also_viewed', [21]));
  return html(fragment('tokC', 'for_you', [31]));
}

test('product block: one request per list, through the app proxy, with the block settings', async () => {
  const { calls, document, errors } = await page(PRODUCT_BLOCK, byList);
  assert.deepEqual(widgetCalls(calls).map((c) => c.url), [
    '/fr/apps/recs/widget?placement=product&product_id=7&limit=4&heading=Frequently%20bought%20together&layout=grid&show_price=1&show_add_to_cart=0&list=bought_together&client_id=abc%3D1',
    '/fr/apps/recs/widget?placement=product&product_id=7&limit=4&heading=You%20%26%20me&layout=grid&show_price=1&show_add_to_cart=0&list=also_viewed&client_id=abc%3D1',
  ]);
  for (const c of widgetCalls(calls)) assert.equal(c.init.credentials, 'same-origin');
  const block = document.querySelector('[data-shoprecs-block]');
  assert.deepEqual([...block.children].map((s) => s.getAttribute('data-shoprecs-token')), ['tokA', 'tokB']);
  assert.equal(block.getAttribute('data-shoprecs-state'), 'loaded');
  assert.equal(block.querySelectorAll('[data-shoprecs-item]').length, 3);
  assert.deepEqual(errors, []);
});

test('cart block: the cart product ids, deduplicated; the limit clamped to 24', async () => {
  const { calls } = await page(CART_BLOCK, () => html(''));
  assert.deepEqual(widgetCalls(calls).map((c) => c.url), [
    '/fr/apps/recs/widget?placement=cart&product_ids=7%2C9%2C11&limit=24&heading=Complete%20your%20order&layout=carousel&show_price=1&show_add_to_cart=1&client_id=abc%3D1&customer=901',
  ]);
});

test("home block: no heading (the server's default), no client_id without the cookie, root /", async () => {
  const { calls } = await page(HOME_BLOCK, () => html('', 204), { root: null, cookie: 'other=1' });
  assert.deepEqual(widgetCalls(calls).map((c) => c.url), [
    '/apps/recs/widget?placement=home&limit=8&layout=grid&show_price=0&show_add_to_cart=0',
  ]);
});

test('an empty cart, or a product block without a product, asks for nothing', async () => {
  const emptyCart = CART_BLOCK.replace('data-cart-product-ids="7,9,7,x,11"', 'data-cart-product-ids=""');
  const noProduct = PRODUCT_BLOCK.replace('data-product-id="7"', 'data-product-id=""');
  const { calls, document } = await page(emptyCart + noProduct, byList);
  assert.equal(calls.length, 0);
  for (const block of document.querySelectorAll('[data-shoprecs-block]')) {
    assert.equal(block.getAttribute('data-shoprecs-state'), 'empty');
  }
});

test('a holdout (204), an error or a page that is not a fragment leaves the block as it was', async () => {
  const answers = [
    () => new Response(null, { status: 204 }),
    () => html('oops', 500),
    () => Promise.reject(new TypeError('network down')),
    () => html('   \n'),
    () => html('<!doctype html><html><body><form action="/password">Enter password</form></body></html>'),
  ];
  for (const answer of answers) {
    const { document, errors, calls } = await page(
      PRODUCT_BLOCK.replace('></div>', '><p class="shoprecs-block__placeholder">editor</p></div>'), answer);
    const block = document.querySelector('[data-shoprecs-block]');
    assert.equal(block.innerHTML, '<p class="shoprecs-block__placeholder">editor</p>');
    assert.equal(block.getAttribute('data-shoprecs-state'), 'empty');
    assert.equal(trackCalls(calls).length, 0);
    assert.deepEqual(errors, []);
  }
});

test('one list empty, the other shown', async () => {
  const { document } = await page(PRODUCT_BLOCK, (url) =>
    url.includes('also_viewed') ? html(fragment('tokB', 'also_viewed', [21])) : new Response(null, { status: 204 }));
  const block = document.querySelector('[data-shoprecs-block]');
  assert.deepEqual([...block.children].map((s) => s.getAttribute('data-shoprecs-token')), ['tokB']);
});

test('an impression is reported once, when a section is at least half visible', async () => {
  const { calls, document, observers } = await page(PRODUCT_BLOCK, byList);
  const [io] = observers;
  const [a, b] = document.querySelectorAll('[data-shoprecs-token]');
  assert.ok(io.targets.has(a) && io.targets.has(b));
  io.fire(a, 0.3);
  assert.equal(trackCalls(calls).length, 0);
  io.fire(a, 0.6);
  io.fire(a, 1);
  const tracked = trackCalls(calls);
  assert.equal(tracked.length, 1);
  assert.equal(tracked[0].url, '/fr/apps/recs/track?event=impression&token=tokA&client_id=abc%3D1');
  assert.equal(tracked[0].init.method, 'POST');
  assert.equal(tracked[0].init.keepalive, true);
  assert.ok(!io.targets.has(a), 'unobserved after reporting');
  io.fire(b, 0.45, 4000); // 1800px of a 4000px section fill more than half the 800px viewport
  assert.equal(trackCalls(calls).length, 2);
});

test('without IntersectionObserver impressions are reported on render', async () => {
  const { calls } = await page(PRODUCT_BLOCK, byList, { io: false });
  assert.deepEqual(trackCalls(calls).map((c) => c.url).sort(), [
    '/fr/apps/recs/track?event=impression&token=tokA&client_id=abc%3D1',
    '/fr/apps/recs/track?event=impression&token=tokB&client_id=abc%3D1',
  ]);
});

test('a click on a product is reported without stopping the navigation', async () => {
  const { calls, document, window } = await page(PRODUCT_BLOCK, byList);
  const title = document.querySelectorAll('[data-shoprecs-token="tokA"] .shoprecs__title')[1];
  const click = new window.MouseEvent('click', { bubbles: true, cancelable: true, button: 0 });
  let prevented = null;
  document.addEventListener('click', (e) => { prevented = e.defaultPrevented; e.preventDefault(); });
  title.dispatchEvent(click);
  assert.equal(prevented, false);
  assert.deepEqual(trackCalls(calls).map((c) => [c.url, c.init.method, c.init.keepalive]), [
    ['/fr/apps/recs/track?event=click&token=tokA&product_id=12&position=2&client_id=abc%3D1', 'POST', true],
  ]);
  // Middle click opens a tab: counted. Add-to-cart buttons and right clicks: not clicks on a product.
  title.dispatchEvent(new window.MouseEvent('auxclick', { bubbles: true, button: 1 }));
  document.querySelector('[data-shoprecs-token="tokB"] button').dispatchEvent(new window.MouseEvent('click', { bubbles: true, cancelable: true, button: 0 }));
  title.dispatchEvent(new window.MouseEvent('auxclick', { bubbles: true, button: 2 }));
  assert.equal(trackCalls(calls).length, 2);
});

test('blocks added later (theme editor, re-rendered sections) are filled; loaded ones are not refetched', async () => {
  const { calls, document, window } = await page(PRODUCT_BLOCK, byList);
  assert.equal(widgetCalls(calls).length, 2);
  const section = document.createElement('div');
  section.innerHTML = HOME_BLOCK;
  document.body.appendChild(section);
  section.dispatchEvent(new window.CustomEvent('shopify:section:load', { bubbles: true }));
  await settle();
  assert.equal(widgetCalls(calls).length, 3);
  assert.equal(section.querySelector('[data-shoprecs-token]').getAttribute('data-shoprecs-token'), 'tokC');
  window.Shoprecs.init();
  await settle();
  assert.equal(widgetCalls(calls).length, 3);
});

test('window.Shoprecs is the only global', async () => {
  const { window } = await page('', byList);
  assert.equal(typeof window.Shoprecs.init, 'function');
  assert.match(window.Shoprecs.version, /^\d+\.\d+\.\d+$/);
  const clean = new JSDOM('', { runScripts: 'outside-only' }).window;
  const before = new Set(Object.keys(clean));
  clean.eval(SCRIPT);
  assert.deepEqual(Object.keys(clean).filter((k) => !before.has(k)), ['Shoprecs']);
});
