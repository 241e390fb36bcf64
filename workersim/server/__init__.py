"""HTTP servers: the worker dev server and the Cloudflare v4 KV REST API, on hypercorn's trio worker."""
