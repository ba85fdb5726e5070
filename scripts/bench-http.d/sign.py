#!/usr/bin/env python3
"""Prints a /proxy/ URL signed the way Shopify's app proxy signs it (src/shopify/app_proxy.rs).

usage: sign.py BASE_URL SHOP [key=value ...]     (secret from $SHOPIFY_API_SECRET)

Adds shop, logged_in_customer_id (empty: a guest), path_prefix and timestamp (now), then
signature = hex HMAC-SHA256(secret, sorted decoded "key=value" pairs concatenated).
"""
import hashlib
import hmac
import os
import sys
import time
from urllib.parse import urlencode

base, shop, *pairs = sys.argv[1:]
params = [tuple(p.split("=", 1)) for p in pairs]
params += [
    ("shop", shop),
    ("logged_in_customer_id", ""),
    ("path_prefix", "/apps/recs"),
    ("timestamp", str(int(time.time()))),
]
message = "".join(sorted(f"{k}={v}" for k, v in params))
secret = os.environ["SHOPIFY_API_SECRET"].encode()
signature = hmac.new(secret, message.encode(), hashlib.sha256).hexdigest()
print(f"{base}?{urlencode(params + [('signature', signature)])}")
