// The web pixel's logic, free of Shopify globals so that `node --test` can run it: consent,
// batching, trimming, and the request body the shoprecs server reads at POST /pixel/events.

/** The standard events shoprecs learns from. */
export const EVENTS = [
  'product_viewed',
  'collection_viewed',
  'search_submitted',
  'product_added_to_cart',
  'product_removed_from_cart',
  'cart_viewed',
  'checkout_started',
  'checkout_completed',
];

// Events that usually come right before the page goes away (a cart/checkout redirect): sent at
// once with whatever is queued, since the sandbox dies with the page and takes the queue along.
export const URGENT = [
  'product_added_to_cart',
  'product_removed_from_cart',
  'checkout_started',
  'checkout_completed',
];

export const LIMITS = {
  maxEvents: 10, // flush when this many are queued
  delayMs: 2000, // ... or this long after the first one was queued
  // keepalive requests share a 64 KiB budget per page; stay below it with room for headers.
  maxBytes: 60000,
  maxArray: 25, // longer arrays (collection/search results, cart lines) are cut
  maxString: 1000,
  maxDepth: 12,
};

// Personal data a recommender does not need (Shopify's protected customer data, level 2):
// dropped wherever it appears in an event.
export const PERSONAL_KEYS = [
  'email',
  'phone',
  'smsMarketingPhone',
  'billingAddress',
  'shippingAddress',
  'firstName',
  'lastName',
  'address1',
  'address2',
  'zip',
  'latitude',
  'longitude',
];

const personal = new Set(PERSONAL_KEYS);

/** UTF-8 length of a string, which is what counts against the keepalive budget. */
export function byteLength(text) {
  if (typeof TextEncoder !== 'undefined') return new TextEncoder().encode(text).length;
  return unescape(encodeURIComponent(text)).length;
}

function trim(value, limits, depth) {
  if (depth > limits.maxDepth) return null;
  if (Array.isArray(value)) {
    return value.slice(0, limits.maxArray).map((v) => trim(v, limits, depth + 1));
  }
  if (value && typeof value === 'object') {
    const out = {};
    for (const key of Object.keys(value)) {
      if (personal.has(key)) continue;
      const v = value[key];
      if (v !== undefined && typeof v !== 'function') out[key] = trim(v, limits, depth + 1);
    }
    return out;
  }
  if (typeof value === 'string' && value.length > limits.maxString) {
    return value.slice(0, limits.maxString);
  }
  return value;
}

/**
 * The event as Shopify delivered it, minus what shoprecs has no use for: `context` keeps only
 * the page address and referrer, long arrays and strings are cut, personal fields dropped.
 */
export function compact(event, limits = LIMITS) {
  const doc = (event && event.context && event.context.document) || {};
  const location = doc.location || {};
  const out = {
    id: event.id,
    name: event.name,
    type: event.type,
    timestamp: event.timestamp,
    clientId: event.clientId,
    seq: event.seq,
    context: {
      document: {
        location: { href: trim(location.href || '', limits, 0) },
        referrer: trim(doc.referrer || '', limits, 0),
      },
    },
    data: trim(event.data === undefined ? null : event.data, limits, 0),
  };
  if (event.customData !== undefined) out.customData = trim(event.customData, limits, 0);
  return out;
}

/** Splits events into request bodies of at most limits.maxBytes; a lone oversize event is dropped. */
export function bodies(envelope, events, limits = LIMITS) {
  const out = [];
  let current = [];
  const body = (list) => JSON.stringify({ ...envelope, events: list });
  for (const event of events) {
    if (byteLength(body([...current, event])) <= limits.maxBytes) {
      current.push(event);
      continue;
    }
    if (current.length) out.push(body(current));
    current = byteLength(body([event])) <= limits.maxBytes ? [event] : [];
  }
  if (current.length) out.push(body(current));
  return out;
}

/** The server's pixel endpoint for these settings, or null when the settings are unusable. */
export function endpointUrl(settings) {
  const endpoint = String((settings && settings.endpoint) || '').trim().replace(/\/+$/, '');
  const shop = String((settings && settings.shop) || '').trim();
  if (!/^https?:\/\/[^\s/?#]+(\/[^\s?#]*)?$/i.test(endpoint) || !shop) return null;
  return `${endpoint}/pixel/events?shop=${encodeURIComponent(shop)}`;
}

function analyticsAllowed(privacy) {
  return !!(privacy && privacy.analyticsProcessingAllowed === true);
}

/**
 * The pixel minus Shopify: `add` takes events as delivered by analytics.subscribe,
 * `setConsent` takes a customerPrivacy object, `send(url, body)` performs the request.
 * Returns null (the pixel stays idle) when the settings carry no usable endpoint or shop.
 */
export function createPixel({ settings, init, send, timers, limits = LIMITS }) {
  const url = endpointUrl(settings);
  if (!url) return null;
  const setTimer = (timers && timers.setTimeout) || setTimeout;
  const clearTimer = (timers && timers.clearTimeout) || clearTimeout;
  const data = (init && init.data) || {};
  const envelope = {
    shop: String(settings.shop).trim(),
    customerId: (data.customer && data.customer.id) || null,
  };
  const urgent = new Set(URGENT);
  let consent = analyticsAllowed(init && init.customerPrivacy);
  let queue = [];
  let timer = null;

  function cancelTimer() {
    if (timer !== null) clearTimer(timer);
    timer = null;
  }

  function flush() {
    cancelTimer();
    if (!queue.length) return;
    const events = queue;
    queue = [];
    if (!consent) return;
    for (const body of bodies(envelope, events, limits)) {
      try {
        send(url, body);
      } catch (e) {
        // a failed beacon must never surface in the storefront
      }
    }
  }

  function add(event) {
    if (!consent || !event || !event.name) return;
    queue.push(compact(event, limits));
    if (urgent.has(event.name) || queue.length >= limits.maxEvents) {
      flush();
    } else if (timer === null) {
      timer = setTimer(flush, limits.delayMs);
    }
  }

  function setConsent(privacy) {
    consent = analyticsAllowed(privacy);
    if (!consent) {
      cancelTimer();
      queue = [];
    }
  }

  return { add, flush, setConsent, url, pending: () => queue.length };
}
