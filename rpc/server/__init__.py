"""The JSON-RPC service: the edge between HTTP/WebSocket clients and the chain index.

A request flows ``app`` (aiohttp: POST, batches, streaming, WebSocket) → ``dispatch`` (parse,
validate, call, respond) → the handlers (``eth_api``, ``logfilter_api``) → ``service`` (the
reader, query engine, caches, filters, subscriptions, indexer and text index of one data
directory). ``codec/`` is where hex exists on the server side; ``protocol`` holds the wire
shapes and the one error type the handlers raise (:class:`~rpc.server.protocol.JsonRpcError`);
``limits`` the configured limits; ``subscriptions`` the ``eth_subscribe`` notifications;
``textsearch`` the text index inside the service (``logfilter_search``); ``sealing`` the
head store's final blocks sealed into segments while serving a backfilled directory. Under
``serve --processes N``, a reader process runs ``reader`` (its method table and WebSocket
relay) over ``readcopy`` (its own copies of the sealed segments) and reaches the writer
through ``writerlink``.
"""
