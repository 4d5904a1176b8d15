"""The JSON-RPC face of logfilter: server, wire codec, client library and command line."""
