// The web pixel: consent, batching, trimming, the request it sends, and its wiring to
// Shopify's register() API (with a stand-in for the `shopify` global of the sandbox).
import test from 'node:test';
import assert from 'node:assert/strict';
import {
  EVENTS, LIMITS, bodies, byteLength, compact, createPixel, endpointUrl,
} from '../shoprecs-pixel/src/batcher.js';

const SETTINGS = { endpoint: 'https://recs.example.com/', shop: 'demo.myshopify.com' };
const URL_ = 'https://recs.example.com/pixel/events?shop=demo.myshopify.com';
const ALLOWED = { analyticsProcessingAllowed: true, marketingAllowed: false };
const DENIED = { analyticsProcessingAllowed: false, marketingAllowed: false };

function fakeTimers() {
  const pending = new Map();
  let next = 1;
  return {
    setTimeout(fn, ms) { pending.set(next, { fn, ms }); return next++; },
    clearTimeout(id) { pending.delete(id); },
    run() { const all = [...pending.values()]; pending.clear(); all.forEach((t) => t.fn()); },
    delays() { return [...pending.values()].map((t) => t.ms); },
  };
}

function event(name, n = 1, data = {}) {
  return {
    id: `sh-${name}-${n}`,
    name,
    type: 'standard',
    timestamp: '2026-01-05T10:00:00.000Z',
    clientId: 'client-1',
    seq: n,
    context: {
      document: {
        location: { href: 'https://demo.example/products/mug', pathname: '/products/mug' },
        referrer: 'https://google.com/',
        title: 'Mug',
        characterSet: 'UTF-8',
      },
      navigator: { userAgent: 'x'.repeat(300), language: 'en' },
      window: { innerWidth: 1200 },
    },
    data,
  };
}

const viewed = (n) => event('product_viewed', n, {
  productVariant: { id: '41', price: { amount: 12.5, currencyCode: 'EUR' }, product: { id: '7', title: 'Mug' } },
});

function setup({ privacy = ALLOWED, customer = { id: '901' }, settings = SETTINGS } = {}) {
  const sent = [];
  const timers = fakeTimers();
  const pixel = createPixel({
    settings,
    init: { data: { customer, cart: null, shop: {} }, customerPrivacy: privacy },
    send: (url, body) => sent.push({ url, body: JSON.parse(body), bytes: byteLength(body) }),
    timers,
  });
  return { pixel, sent, timers };
}

test('without analytics consent nothing is queued or sent', () => {
  const { pixel, sent, timers } = setup({ privacy: DENIED });
  for (let i = 0; i < 12; i++) pixel.add(viewed(i));
  pixel.add(event('checkout_completed'));
  pixel.flush();
  timers.run();
  assert.equal(sent.length, 0);
  assert.equal(pixel.pending(), 0);
});

test('a missing customerPrivacy counts as no consent', () => {
  const sent = [];
  const pixel = createPixel({ settings: SETTINGS, init: { data: {} }, send: (u, b) => sent.push(b), timers: fakeTimers() });
  pixel.add(event('checkout_completed'));
  assert.equal(sent.length, 0);
});

test('consent given later applies to later events only', () => {
  const { pixel, sent } = setup({ privacy: DENIED });
  pixel.add(viewed(1));
  pixel.setConsent(ALLOWED);
  pixel.add(viewed(2));
  pixel.flush();
  assert.equal(sent.length, 1);
  assert.deepEqual(sent[0].body.events.map((e) => e.id), ['sh-product_viewed-2']);
});

test('withdrawn consent drops the queue', () => {
  const { pixel, sent, timers } = setup();
  pixel.add(viewed(1));
  pixel.add(viewed(2));
  pixel.setConsent(DENIED);
  timers.run();
  pixel.flush();
  pixel.add(viewed(3));
  pixel.flush();
  assert.equal(sent.length, 0);
});

test('events are sent in one batch two seconds after the first', () => {
  const { pixel, sent, timers } = setup();
  pixel.add(viewed(1));
  pixel.add(event('collection_viewed', 2, { collection: { id: '5', title: 'Cups', productVariants: [] } }));
  pixel.add(viewed(3));
  assert.equal(sent.length, 0);
  assert.deepEqual(timers.delays(), [LIMITS.delayMs]);
  timers.run();
  assert.equal(sent.length, 1);
  assert.equal(sent[0].url, URL_);
  assert.deepEqual(sent[0].body.events.map((e) => e.seq), [1, 2, 3]);
  assert.deepEqual(timers.delays(), []);
});

test('ten queued events are sent at once', () => {
  const { pixel, sent, timers } = setup();
  for (let i = 1; i <= 10; i++) pixel.add(viewed(i));
  assert.equal(sent.length, 1);
  assert.equal(sent[0].body.events.length, 10);
  assert.deepEqual(timers.delays(), [], 'the timer is cancelled by the flush');
  pixel.add(viewed(11));
  assert.deepEqual(timers.delays(), [LIMITS.delayMs]);
});

test('cart and checkout events go out at once, with what is queued', () => {
  const { pixel, sent } = setup();
  pixel.add(viewed(1));
  pixel.add(event('product_added_to_cart', 2, { cartLine: { quantity: 1, merchandise: { id: '41' } } }));
  assert.equal(sent.length, 1);
  assert.deepEqual(sent[0].body.events.map((e) => e.name), ['product_viewed', 'product_added_to_cart']);
});

test('the body carries shop, customer id and the events as received', () => {
  const { pixel, sent } = setup();
  pixel.add(viewed(1));
  pixel.flush();
  const { body } = sent[0];
  assert.equal(body.shop, 'demo.myshopify.com');
  assert.equal(body.customerId, '901');
  const [e] = body.events;
  assert.deepEqual(Object.keys(e).sort(), ['clientId', 'context', 'data', 'id', 'name', 'seq', 'timestamp', 'type']);
  assert.deepEqual(e.data, viewed(1).data);
  assert.equal(e.clientId, 'client-1');
  assert.deepEqual(e.context, {
    document: { location: { href: 'https://demo.example/products/mug' }, referrer: 'https://google.com/' },
  });
});

test('anonymous shoppers are sent with customerId null', () => {
  const { pixel, sent } = setup({ customer: null });
  pixel.add(event('checkout_started'));
  assert.equal(sent[0].body.customerId, null);
});

test('long arrays and strings are cut, personal fields dropped', () => {
  const variants = Array.from({ length: 60 }, (_, i) => ({ id: String(i), title: 't'.repeat(2000) }));
  const checkout = {
    token: 'tok', email: 'a@b.c', phone: '+1', billingAddress: { city: 'x' }, shippingAddress: { zip: '1' },
    order: { id: '55', customer: { id: '901', isFirstOrder: false } },
    lineItems: [{ id: '1', quantity: 2, variant: { id: '41', product: { id: '7' } } }],
  };
  const e = compact(event('search_submitted', 1, { searchResult: { query: 'mug', productVariants: variants }, checkout }));
  assert.equal(e.data.searchResult.productVariants.length, LIMITS.maxArray);
  assert.equal(e.data.searchResult.productVariants[0].title.length, LIMITS.maxString);
  assert.equal(e.data.checkout.email, undefined);
  assert.equal(e.data.checkout.phone, undefined);
  assert.equal(e.data.checkout.billingAddress, undefined);
  assert.equal(e.data.checkout.shippingAddress, undefined);
  assert.deepEqual(e.data.checkout.order, checkout.order);
  assert.deepEqual(e.data.checkout.lineItems, checkout.lineItems);
});

test('requests stay under the keepalive budget', () => {
  const { pixel, sent } = setup();
  const big = (n) => event('collection_viewed', n, {
    collection: { id: '5', productVariants: Array.from({ length: 25 }, (_, i) => ({ id: String(i), title: 'é'.repeat(400) })) },
  });
  for (let i = 1; i <= 10; i++) pixel.add(big(i));
  assert.ok(sent.length > 1, 'split into several requests');
  assert.equal(sent.reduce((n, s) => n + s.body.events.length, 0), 10, 'no event lost');
  for (const s of sent) assert.ok(s.bytes <= LIMITS.maxBytes, `${s.bytes} bytes`);
});

test('a single event larger than the budget is dropped, the rest still sent', () => {
  const limits = { ...LIMITS, maxBytes: 2000 };
  const huge = compact(event('cart_viewed', 1, { cart: { note: 'n'.repeat(900), attributes: ['a'.repeat(900), 'b'.repeat(900)] } }), limits);
  const small = compact(viewed(2), limits);
  const out = bodies({ shop: 's', customerId: null }, [huge, small], limits);
  assert.equal(out.length, 1);
  assert.deepEqual(JSON.parse(out[0]).events.map((e) => e.seq), [2]);
});

test('unusable settings leave the pixel idle', () => {
  assert.equal(endpointUrl({ endpoint: '', shop: 'a.myshopify.com' }), null);
  assert.equal(endpointUrl({ endpoint: 'javascript:alert(1)', shop: 'a.myshopify.com' }), null);
  assert.equal(endpointUrl({ endpoint: 'https://x.example', shop: '' }), null);
  assert.equal(endpointUrl({ endpoint: 'https://x.example/base/', shop: 'a b' }),
    'https://x.example/base/pixel/events?shop=a%20b');
  assert.equal(createPixel({ settings: {}, init: {}, send() {} }), null);
});

test('index.js subscribes to the eight events and posts text/plain with keepalive', async () => {
  let extend;
  globalThis.shopify = { extend: (point, fn) => { assert.equal(point, 'WebPixel::Render'); extend = fn; } };
  const calls = [];
  const realFetch = globalThis.fetch;
  globalThis.fetch = (url, init) => { calls.push({ url, init }); return Promise.resolve(new Response(null, { status: 202 })); };
  try {
    await import('../shoprecs-pixel/src/index.js');
    assert.equal(typeof extend, 'function', 'register() was called');
    const handlers = {};
    let consentHandler;
    extend({
      analytics: { subscribe: (name, fn) => { handlers[name] = fn; } },
      customerPrivacy: { subscribe: (name, fn) => { assert.equal(name, 'visitorConsentCollected'); consentHandler = fn; } },
      init: { data: { customer: { id: '901' } }, customerPrivacy: ALLOWED },
      settings: SETTINGS,
      browser: {},
    });
    assert.deepEqual(Object.keys(handlers).sort(), [...EVENTS].sort());
    handlers.checkout_completed(event('checkout_completed'));
    assert.equal(calls.length, 1);
    assert.equal(calls[0].url, URL_);
    assert.equal(calls[0].init.method, 'POST');
    assert.equal(calls[0].init.keepalive, true);
    assert.deepEqual(calls[0].init.headers, { 'Content-Type': 'text/plain' });
    assert.equal(JSON.parse(calls[0].init.body).events[0].name, 'checkout_completed');
    consentHandler({ customerPrivacy: DENIED });
    handlers.checkout_completed(event('checkout_completed', 2));
    assert.equal(calls.length, 1, 'nothing after consent is withdrawn');
  } finally {
    globalThis.fetch = realFetch;
    delete globalThis.shopify;
  }
});
