// shoprecs web pixel: sends the storefront's browse events to the shoprecs server
// (POST <endpoint>/pixel/events?shop=<shop>), batched, and only with analytics consent.
// The logic lives in batcher.js; this file wires it to Shopify's pixel API.
import {register} from '@shopify/web-pixels-extension';
import {EVENTS, createPixel} from './batcher.js';

register(({analytics, init, settings, customerPrivacy}) => {
  const pixel = createPixel({
    settings,
    init,
    // text/plain keeps the cross-origin POST a "simple" request: no CORS preflight.
    send: (url, body) =>
      fetch(url, {
        method: 'POST',
        keepalive: true,
        headers: {'Content-Type': 'text/plain'},
        body,
      }).catch(() => {}),
  });
  if (!pixel) return;

  for (const name of EVENTS) analytics.subscribe(name, pixel.add);

  // The extension only loads with analytics consent ([customer_privacy] in the toml); a shopper
  // can still withdraw or grant it on the page.
  if (customerPrivacy && typeof customerPrivacy.subscribe === 'function') {
    customerPrivacy.subscribe('visitorConsentCollected', (event) =>
      pixel.setConsent(event && event.customerPrivacy),
    );
  }

  // The strict sandbox is a worker and sees no page lifecycle; where one exists, send the
  // queue before the page goes away.
  const scope = typeof self !== 'undefined' ? self : undefined;
  if (scope && typeof scope.addEventListener === 'function') {
    scope.addEventListener('pagehide', pixel.flush);
  }
  if (typeof document !== 'undefined' && typeof document.addEventListener === 'function') {
    document.addEventListener('visibilitychange', () => {
      if (document.visibilityState === 'hidden') pixel.flush();
    });
  }
});
