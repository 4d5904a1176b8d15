"""The JSON-RPC face of logfilter: server, wire codec, client library and command line.

* :mod:`rpc.server`: the JSON-RPC service (HTTP and WebSocket), its codec and handlers;
* :mod:`rpc.client`: the client library, standing alone (it needs no server code);
* :mod:`rpc.commands`: the ``logfilter`` subcommands (the demo under ``commands/demo``);
* :mod:`rpc.cli`: the command line's entry point.
"""
